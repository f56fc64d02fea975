using static TorchSharp.torch;
using Ocr.MLNet.Loading;

namespace Ocr.MLNet.Preparation;

/// <summary>Builds <c>mlContext.Data.AugmentImages</c>: every image followed by its augmented copies, computed once.</summary>
internal static class OfflineAugmentation
{
    /// <summary>Images augmented per tensor batch.</summary>
    private const int BatchSize = 256;

    public static IDataView Augment(IDataView data, int copiesPerImage, ImageAugmentationOptions? options, string pixelsColumnName, string labelColumnName)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new ImageAugmentationOptions();
        if (copiesPerImage < 0)
            throw new ArgumentException($"copiesPerImage = {copiesPerImage} (must be 0 or more).", nameof(copiesPerImage));
        var augmenter = new ImageAugmenter(options);
        var (labels, originals) = Read(data, labelColumnName, pixelsColumnName);
        const int pixelCount = AugmentedImages.PixelCount;
        if ((long)labels.Length * copiesPerImage * pixelCount > Array.MaxLength)
            throw new ArgumentException($"copiesPerImage = {copiesPerImage} makes {(long)labels.Length * copiesPerImage} copies of {labels.Length} images; at most {Array.MaxLength / pixelCount} fit. Use fewer copies or augment online (CharacterCnnTrainer.Options.Augmentation).", nameof(copiesPerImage));

        float low = 0, high = 0;
        foreach (float v in originals)
        {
            low = Math.Min(low, v);
            high = Math.Max(high, v);
        }

        if (high <= low)
            high = low + 1;
        float step = (high - low) / 255f;
        var copies = new byte[(long)labels.Length * copiesPerImage * pixelCount];
        if (copiesPerImage > 0 && labels.Length > 0)
        {
            TorchBackend.EnsureLoaded();
            using var generator = new Generator((ulong)options.Seed, CPU);
            var buffer = new float[BatchSize * copiesPerImage * pixelCount];
            for (int start = 0; start < labels.Length; start += BatchSize)
            {
                using var scope = NewDisposeScope();
                int count = Math.Min(BatchSize, labels.Length - start);
                var batch = tensor(originals.AsSpan(start * pixelCount, count * pixelCount).ToArray(), [count, 1, 32, 32]);
                var repeated = batch.repeat_interleave(copiesPerImage, 0);
                var augmented = augmenter.Augment(repeated, generator).contiguous();
                int values = count * copiesPerImage * pixelCount;
                augmented.data<float>().CopyTo(buffer.AsSpan(0, values));
                long offset = (long)start * copiesPerImage * pixelCount;
                for (int i = 0; i < values; i++)
                    copies[offset + i] = (byte)Math.Clamp(MathF.Round((buffer[i] - low) / step), 0, 255);
            }
        }

        return new CharacterDataView<AugmentedImages>(new AugmentedImages(labels, originals, copies, copiesPerImage, low, step), labelColumnName, pixelsColumnName);
    }

    /// <summary>Reads every row's string label and pixels, checking the columns' types first.</summary>
    internal static (string[] Labels, float[] Pixels) Read(IDataView data, string labelColumnName, string pixelsColumnName)
    {
        const int pixelCount = AugmentedImages.PixelCount;
        if (data.Schema.GetColumnOrNull(labelColumnName) is not { } label)
            throw new ArgumentOutOfRangeException(nameof(data), $"Could not find label column '{labelColumnName}'. Name the column that holds the class with labelColumnName.");
        if (label.Type is not TextDataViewType)
            throw new ArgumentOutOfRangeException(nameof(data), $"Schema mismatch for label column '{labelColumnName}': expected String, got {label.Type}. Augment before mapping labels to keys.");
        if (data.Schema.GetColumnOrNull(pixelsColumnName) is not { } pixels)
            throw new ArgumentOutOfRangeException(nameof(data), $"Could not find pixels column '{pixelsColumnName}'. Name the 1×32×32 float column with pixelsColumnName.");
        if (pixels.Type is not VectorDataViewType { ItemType: var item } vector || item != NumberDataViewType.Single || (vector.IsKnownSize && vector.Size != pixelCount))
        {
            throw new ArgumentOutOfRangeException(nameof(data),
                $"Schema mismatch for pixels column '{pixelsColumnName}': expected Vector<Single, {pixelCount}> (1×32×32), got {pixels.Type}. Use an Ocr.MLNet loader, or mlContext.Transforms.PrepareCharacterImages() for an image column.");
        }

        return Loading.LabeledImagesReader.ReadRows(data, label, pixels, pixelsColumnName, "input", CancellationToken.None);
    }
}
