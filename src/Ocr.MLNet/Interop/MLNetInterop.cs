using System.Reflection;
using Microsoft.ML.Runtime;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Training;
using Ocr.MLNet.Export;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet;

/// <summary>
/// The few ML.NET 5.0.1 members a third-party estimator needs but ML.NET keeps internal: building a
/// <see cref="SchemaShape"/> from a schema, and sending a message to <c>MLContext.Log</c>. Reflection is
/// confined here; the package pins ML.NET's version, and a test covers each member.
/// </summary>
internal static class MLNetInterop
{
    private static readonly MethodInfo SchemaShapeCreate =
        typeof(SchemaShape).GetMethod("Create", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public, [typeof(DataViewSchema)])
        ?? throw Missing("SchemaShape.Create(DataViewSchema)");

    private static readonly ConstructorInfo? ChannelMessageConstructor =
        typeof(ChannelMessage).GetConstructor(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, null,
            [typeof(ChannelMessageKind), typeof(MessageSensitivity), typeof(string)], null);

    /// <summary>ML.NET's own conversion of a schema to the shape estimators exchange.</summary>
    public static SchemaShape ToShape(DataViewSchema schema) => (SchemaShape)SchemaShapeCreate.Invoke(null, [schema])!;

    /// <summary>The column called <paramref name="name"/>, or null.</summary>
    public static SchemaShape.Column? FindColumn(SchemaShape shape, string name)
    {
        foreach (var column in shape)
        {
            if (column.Name == name)
                return column;
        }

        return null;
    }

    /// <summary>Sends an informational message to the channel, so it appears in <c>MLContext.Log</c>.</summary>
    public static void Info(IChannel channel, string message)
    {
        if (ChannelMessageConstructor is null)
            return; // ML.NET changed its message type: progress still reaches Options.Progress.
        channel.Send((ChannelMessage)ChannelMessageConstructor.Invoke([ChannelMessageKind.Info, MessageSensitivity.None, message]));
    }

    private static InvalidOperationException Missing(string member) =>
        new($"Ocr.MLNet needs ML.NET's {member}, which this ML.NET version lacks. Use the ML.NET version Ocr.MLNet depends on.");
}
