namespace Ocr.MLNet.Lines;

/// <summary>
/// Handwritten glyphs for <see cref="SyntheticFieldGenerator"/>: EMNIST's (<see cref="EmnistCharacterSource"/>), or any
/// other set, e.g. glyphs drawn by a test.
/// </summary>
/// <remarks>Implementations must be safe to call from several threads at once, and must draw only from the given random.</remarks>
/// <example>
/// <code>
/// var generator = new SyntheticFieldGenerator(new SyntheticFieldOptions { Seed = 7 }, EmnistCharacterSource.Load("data/emnist"));
/// </code>
/// </example>
public interface ICharacterSource
{
    /// <summary>Whether the source has glyphs of <paramref name="character"/> ("A", "a", "7" are different characters).</summary>
    bool Contains(char character);

    /// <summary>
    /// Writes one glyph of <paramref name="character"/>, chosen with <paramref name="random"/>, into
    /// <paramref name="destination"/>: upright, 32×32 row-major, ink 1 on 0, as <see cref="CharacterFormat"/> lays out
    /// every prepared image.
    /// </summary>
    /// <exception cref="ArgumentException">The source has no glyph of <paramref name="character"/>.</exception>
    void CopyGlyph(char character, Random random, Span<float> destination);
}
