using Ocr.MLNet.Loading;

namespace Ocr.MLNet.Lines;

/// <summary>
/// EMNIST's handwritten characters as glyphs for synthetic fields: every single-character class of a split, upper and
/// lower case apart in ByClass. Immutable, safe to share between threads.
/// </summary>
/// <remarks>
/// ByClass's class <c>M</c> is more often written as a small m than as a capital (NIST's writers filled the upper-case
/// boxes in their own hand), and a reader trained on it reads a capital M as H or N. At 28×28 the two differ mainly in
/// height: a small m is flat. Glyphs of <c>M</c> whose ink is less tall than <see cref="MinimumCapitalMHeightToWidth"/>
/// of its width are left out; every other class is used whole.
/// </remarks>
/// <example>
/// <code>
/// var characters = EmnistCharacterSource.Load("../shared/data/emnist-byclass-test");
/// bool hasLowerCase = characters.Contains('a');
/// </code>
/// </example>
public sealed class EmnistCharacterSource : ICharacterSource
{
    /// <summary>The least height-to-width ratio of the ink of a glyph of <c>M</c> that is kept as a capital.</summary>
    public const double MinimumCapitalMHeightToWidth = 0.8;

    /// <summary>A pixel counts as ink above this value (0 to 1) when a glyph's shape is measured.</summary>
    private const float InkThreshold = 0.4f;

    private readonly EmnistDataset dataset;
    private readonly Dictionary<char, int[]> rowsByCharacter;

    /// <summary>Uses the rows of a loaded split.</summary>
    /// <exception cref="ArgumentException">The split has no single-character class with rows.</exception>
    internal EmnistCharacterSource(EmnistDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        this.dataset = dataset;
        var rows = new Dictionary<char, List<int>>();
        var pixels = new float[CharacterFormat.PixelCount];
        for (int row = 0; row < dataset.Count; row++)
        {
            string label = dataset.GetLabel(row);
            if (label.Length != 1)
                continue;
            if (label[0] == 'M' && !IsTallEnoughForCapitalM(dataset, row, pixels))
                continue;
            if (!rows.TryGetValue(label[0], out var list))
                rows[label[0]] = list = [];
            list.Add(row);
        }

        if (rows.Count == 0)
            throw new ArgumentException($"The EMNIST split '{dataset.ImagesPath}' has no rows of single-character classes; load a split with characters (e.g. ByClass).", nameof(dataset));
        rowsByCharacter = rows.ToDictionary(p => p.Key, p => p.Value.ToArray());
    }

    private static bool IsTallEnoughForCapitalM(EmnistDataset dataset, int row, float[] pixels)
    {
        dataset.CopyPixels(row, pixels);
        var (_, _, width, height) = GlyphInk.Bounds(pixels, CharacterFormat.ImageSide, CharacterFormat.ImageSide, InkThreshold);
        return width > 0 && height >= MinimumCapitalMHeightToWidth * width;
    }

    /// <summary>Loads the split <paramref name="split"/> from a folder of EMNIST files (see <see cref="EmnistDataset.Load(string, string, int?)"/>).</summary>
    /// <param name="directory">Folder holding e.g. <c>emnist-byclass-test-images-idx3-ubyte.gz</c>, its labels and mapping.</param>
    /// <param name="split">The split part of the file names.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">A file of the split is missing.</exception>
    public static EmnistCharacterSource Load(string directory, string split = "test") => new(EmnistDataset.Load(directory, split));

    /// <summary>The number of glyphs drawn from for <paramref name="character"/>; 0 when it has none.</summary>
    public int GlyphCount(char character) => rowsByCharacter.TryGetValue(character, out var rows) ? rows.Length : 0;

    /// <summary>The characters that have glyphs.</summary>
    public IReadOnlyCollection<char> Characters => rowsByCharacter.Keys;

    /// <inheritdoc/>
    public bool Contains(char character) => rowsByCharacter.ContainsKey(character);

    /// <inheritdoc/>
    public void CopyGlyph(char character, Random random, Span<float> destination)
    {
        if (!rowsByCharacter.TryGetValue(character, out var rows))
            throw new ArgumentException($"The EMNIST split '{dataset.ImagesPath}' has no glyph of '{character}'; it has {string.Concat(rowsByCharacter.Keys.Order())}.", nameof(character));
        dataset.CopyPixels(rows[random.Next(rows.Length)], destination);
    }
}
