using Ocr.MLNet.Loading;


namespace Ocr.MLNet.Preparation;

/// <summary>
/// The rows of <c>AugmentImages</c>: for each original image, the original (floats, exact) followed by its
/// augmented copies (one byte per pixel, linearly quantised over the data's value range). Read through
/// <see cref="CharacterDataView{TRows}"/> like every other set of character images.
/// </summary>
internal sealed class AugmentedImages : ICharacterRows
{
    public const int PixelCount = CharacterFormat.PixelCount;

    private readonly string[] labels;
    private readonly float[] originals;
    private readonly byte[] copies;
    private readonly int copiesPerImage;
    private readonly float low;
    private readonly float step;

    public AugmentedImages(string[] labels, float[] originals, byte[] copies, int copiesPerImage, float low, float step)
    {
        long count = (long)labels.Length * (1 + copiesPerImage);
        if (count > int.MaxValue)
            throw new ArgumentException($"{labels.Length} images with {copiesPerImage} copies each make {count} rows; at most {int.MaxValue} fit in one view.", nameof(copiesPerImage));
        this.labels = labels;
        this.originals = originals;
        this.copies = copies;
        this.copiesPerImage = copiesPerImage;
        this.low = low;
        this.step = step;
        Count = (int)count;
    }

    public int Count { get; }

    public string GetLabel(int row) => labels[row / (1 + copiesPerImage)];

    public void CopyPixels(int row, Span<float> destination)
    {
        long image = row / (1 + copiesPerImage);
        int copy = row % (1 + copiesPerImage);
        if (copy == 0)
        {
            originals.AsSpan((int)(image * PixelCount), PixelCount).CopyTo(destination);
            return;
        }

        var source = copies.AsSpan((int)(((image * copiesPerImage) + copy - 1) * PixelCount), PixelCount);
        for (int i = 0; i < PixelCount; i++)
            destination[i] = low + (source[i] * step);
    }
}
