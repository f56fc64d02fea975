using System.Collections.Concurrent;
using System.Text.Json;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.Lines;

/// <summary>
/// How a saved line model decodes: its alphabet, the characters its fields may hold, the beam and the language. The
/// model carries these as a JSON string output, so its decoding step (a stateless ML.NET <c>CustomMapping</c>) reads
/// them from the row rather than from state ML.NET could not save.
/// </summary>
internal sealed record LineDecodingSettings(string Alphabet, string AllowedCharacters, int BeamWidth,
    Dictionary<string, double>? LetterFrequencies, Dictionary<string, double>? LetterPairs)
{
    private static readonly ConcurrentDictionary<string, CtcDecoder> Decoders = new();

    public static LineDecodingSettings Create(string alphabet, string allowed, int beamWidth, LetterFrequencies? language) =>
        new(alphabet, allowed, beamWidth,
            language?.Frequencies.ToDictionary(p => p.Key.ToString(), p => p.Value),
            language?.Pairs?.ToDictionary(p => p.Key, p => p.Value));

    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>The decoder these settings describe (one per distinct JSON, shared: decoders are immutable).</summary>
    public static CtcDecoder DecoderFor(string json) => Decoders.GetOrAdd(json, static j =>
    {
        LineDecodingSettings settings;
        try
        {
            settings = JsonSerializer.Deserialize<LineDecodingSettings>(j) ?? throw new InvalidDataException("The line model's decoding settings are empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The line model's decoding settings are not valid ({e.Message}); save the model again with this version.", e);
        }

        return settings.ToDecoder();
    });

    public CtcDecoder ToDecoder(string? allowedCharacters = null, LetterFrequencies? language = null, bool keepLanguage = true) =>
        new(Alphabet, new CtcDecoderOptions
        {
            BeamWidth = BeamWidth,
            AllowedCharacters = allowedCharacters ?? AllowedCharacters,
            LetterFrequencies = keepLanguage ? language ?? Language() : language,
        });

    private LetterFrequencies? language;

    /// <summary>The language table these settings carry (one instance per settings), or null.</summary>
    public LetterFrequencies? Language() => LetterFrequencies is null ? null
        : language ??= new LetterFrequencies(LetterFrequencies.ToDictionary(p => p.Key[0], p => p.Value), LetterPairs);

    public static LineDecodingSettings FromJson(string json) =>
        JsonSerializer.Deserialize<LineDecodingSettings>(json) ?? throw new InvalidDataException("The line model's decoding settings are empty.");
}
