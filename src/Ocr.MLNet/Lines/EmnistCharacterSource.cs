using Ocr.MLNet.Loading;

namespace Ocr.MLNet.Lines;

/// <summary>
/// EMNIST's handwritten characters as glyphs for synthetic fields: every single-character class of a split, upper and
/// lower case apart in ByClass. Immutable, safe to share between threads.
/// </summary>
/// <example>
/// <code>
/// var characters = EmnistCharacterSource.Load("../shared/data/emnist-byclass-test");
/// bool hasLowerCase = characters.Contains('a');
/// </code>
/// </example>
public sealed class EmnistCharacterSource : ICharacterSource
{
    private readonly EmnistDataset dataset;
    private readonly Dictionary<char, int[]> rowsByCharacter;

    /// <summary>Uses the rows of a loaded split.</summary>
    /// <exception cref="ArgumentException">The split has no single-character class with rows.</exception>
    internal EmnistCharacterSource(EmnistDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        this.dataset = dataset;
        var rows = new Dictionary<char, List<int>>();
        for (int row = 0; row < dataset.Count; row++)
        {
            string label = dataset.GetLabel(row);
            if (label.Length != 1)
                continue;
            if (!rows.TryGetValue(label[0], out var list))
                rows[label[0]] = list = [];
            list.Add(row);
        }

        if (rows.Count == 0)
            throw new ArgumentException($"The EMNIST split '{dataset.ImagesPath}' has no rows of single-character classes; load a split with characters (e.g. ByClass).", nameof(dataset));
        rowsByCharacter = rows.ToDictionary(p => p.Key, p => p.Value.ToArray());
    }

    /// <summary>Loads the split <paramref name="split"/> from a folder of EMNIST files (see <see cref="EmnistDataset.Load(string, string, int?)"/>).</summary>
    /// <param name="directory">Folder holding e.g. <c>emnist-byclass-test-images-idx3-ubyte.gz</c>, its labels and mapping.</param>
    /// <param name="split">The split part of the file names.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">A file of the split is missing.</exception>
    public static EmnistCharacterSource Load(string directory, string split = "test") => new(EmnistDataset.Load(directory, split));

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
