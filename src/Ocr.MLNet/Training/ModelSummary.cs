using System.Globalization;
using System.Text;

namespace Ocr.MLNet.Training;

/// <summary>One row of a <see cref="ModelSummary"/>.</summary>
/// <param name="Name">Keras-style layer name (<c>conv2d</c>, <c>conv2d_1</c>, …).</param>
/// <param name="Kind">Keras layer type (<c>Conv2D</c>, <c>BatchNormalization</c>, <c>Dropout</c>, <c>Flatten</c>, <c>Dense</c>).</param>
/// <param name="OutputShape">Output shape without the batch dimension (C×H×W, or features).</param>
/// <param name="TrainableParameters">Weights that training updates.</param>
/// <param name="NonTrainableParameters">State that training does not update by gradient (BatchNorm moving mean and variance).</param>
internal sealed record LayerSummary(
    string Name,
    string Kind,
    IReadOnlyList<long> OutputShape,
    long TrainableParameters,
    long NonTrainableParameters)
{
    /// <summary>All parameters of the layer, as Keras' "Param #" column counts them.</summary>
    public long Parameters => TrainableParameters + NonTrainableParameters;
}

/// <summary>Layer-by-layer description of a network, like Keras' <c>model.summary()</c>.</summary>
public sealed class ModelSummary
{
    /// <summary>Creates a summary from its rows.</summary>
    internal ModelSummary(IReadOnlyList<LayerSummary> layers)
    {
        Layers = layers;
    }

    /// <summary>The layers in forward order.</summary>
    internal IReadOnlyList<LayerSummary> Layers { get; }

    /// <summary>Sum of the trainable parameters.</summary>
    public long TrainableParameters => Layers.Sum(l => l.TrainableParameters);

    /// <summary>Sum of the non-trainable parameters.</summary>
    public long NonTrainableParameters => Layers.Sum(l => l.NonTrainableParameters);

    /// <summary>All parameters.</summary>
    public long TotalParameters => TrainableParameters + NonTrainableParameters;

    /// <summary>Formats the summary as a Keras-like text table.</summary>
    public override string ToString()
    {
        var culture = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        int nameWidth = Math.Max(20, Layers.Max(l => l.Name.Length + l.Kind.Length + 3) + 2);
        int width = nameWidth + 20 + 12;
        string rule = new('_', width);
        text.AppendLine(rule);
        text.AppendLine($"{"Layer (type)".PadRight(nameWidth)}{"Output Shape",-20}{"Param #",12}");
        text.AppendLine(new string('=', width));
        foreach (var layer in Layers)
        {
            string shape = "(None, " + string.Join(", ", layer.OutputShape) + ")";
            text.AppendLine($"{$"{layer.Name} ({layer.Kind})".PadRight(nameWidth)}{shape,-20}{layer.Parameters.ToString("N0", culture),12}");
        }

        text.AppendLine(new string('=', width));
        text.AppendLine(culture, $"Total params: {TotalParameters:N0}");
        text.AppendLine(culture, $"Trainable params: {TrainableParameters:N0}");
        text.AppendLine(culture, $"Non-trainable params: {NonTrainableParameters:N0}");
        text.Append(rule);
        return text.ToString();
    }
}
