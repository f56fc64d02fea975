namespace Ocr.MLNet.Lines;

/// <summary>What a <see cref="CtcDecoder"/> read in one line.</summary>
/// <param name="Text">The characters, repeats collapsed and blanks dropped; empty for a line of blanks.</param>
/// <param name="Confidence">
/// The probability of <paramref name="Text"/> under the network's scores after the mask, 0–1: the sum over every alignment
/// of the text (CTC's forward algorithm), each time step renormalised over the allowed characters and the blank. The
/// language model only chooses the text and does not enter it. Like the field reader's confidence it is the probability
/// that the whole line is right, so it falls with each doubtful character.
/// </param>
/// <param name="Characters">Each character with its time steps, confidence and alternatives, in reading order.</param>
/// <example>
/// <code>
/// CtcDecoding line = decoder.Decode(scores, timeSteps);
/// if (line.Confidence &lt; 0.9)
///     Console.WriteLine($"check '{line.Text}': {string.Join(", ", line.Characters.Select(c => $"{c.Character} {c.Confidence:P0}"))}");
/// </code>
/// </example>
public sealed record CtcDecoding(string Text, float Confidence, IReadOnlyList<CtcCharacter> Characters)
{
    /// <summary>The decoding of a line without time steps.</summary>
    public static CtcDecoding Empty { get; } = new("", 1f, []);
}

/// <summary>One character of a <see cref="CtcDecoding"/>.</summary>
/// <param name="Character">The character.</param>
/// <param name="FirstTimeStep">The first time step the most probable alignment of the text gives it (0-based).</param>
/// <param name="LastTimeStep">The last such time step (inclusive): with the network's stride, where its box lies.</param>
/// <param name="Confidence">Its highest probability over those time steps (after the mask), 0–1.</param>
/// <param name="Alternatives">At that peak time step, the other allowed characters with their probabilities, best first.</param>
public sealed record CtcCharacter(char Character, int FirstTimeStep, int LastTimeStep, float Confidence, IReadOnlyList<CtcAlternative> Alternatives);

/// <summary>A character the network also saw where a <see cref="CtcCharacter"/> was read.</summary>
/// <param name="Character">The other character.</param>
/// <param name="Probability">Its probability at that time step (after the mask), 0–1.</param>
public readonly record struct CtcAlternative(char Character, float Probability);
