using System.Diagnostics;
using Microsoft.ML.Data;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Text;

namespace WebDemo;

/// <summary>One character of a field as the page draws it: its label, confidence and box in the posted image's pixels.</summary>
internal sealed record FieldCharacter(string Label, float Confidence, int X, int Y, int Width, int Height, IReadOnlyList<ClassProbability> Alternatives);

/// <summary>The reply to a field: what it holds (writing, blank or noise), the text read, its confidence, each character, the image size the boxes refer to.</summary>
internal sealed record FieldReply(string Content, string Text, float Confidence, string Kind, IReadOnlyList<FieldCharacter> Characters, int Width, int Height, double Milliseconds)
{
    /// <summary>The kinds a request may name (as the CLI's <c>read --kind</c>), in the page's order.</summary>
    public static IReadOnlyList<string> KindNames => FieldKindNames.Names;

    /// <summary>The kind a request names; <c>alnum</c> when it names none; null when the name is unknown.</summary>
    public static FieldKind? ParseKind(string? name) =>
        string.IsNullOrEmpty(name) ? FieldKind.Alphanumeric : FieldKindNames.TryParse(name, out var kind) ? kind : null;

    public static string UnknownKind(string name) =>
        $"Unknown field kind '{name}'; use one of {string.Join(", ", KindNames)} (e.g. /api/read?kind=digits).";

    public static FieldReply Read(HandwrittenFieldReader reader, MLImage image, FieldKind kind)
    {
        var clock = Stopwatch.StartNew();
        var reading = reader.Read(image, kind);
        var characters = reading.Characters
            .Select(c => new FieldCharacter(c.Label, c.Confidence, c.Box.X, c.Box.Y, c.Box.Width, c.Box.Height,
                c.Alternatives.Select(a => new ClassProbability(a.ClassName, a.Score)).ToList()))
            .ToList();
        string name = FieldKindNames.NameOf(kind);
        return new FieldReply(reading.Content.ToString().ToLowerInvariant(), reading.Text, reading.Confidence, name, characters, image.Width, image.Height, clock.Elapsed.TotalMilliseconds);
    }
}
