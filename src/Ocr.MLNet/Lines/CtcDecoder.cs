using Ocr.MLNet.Fields;

namespace Ocr.MLNet.Lines;

/// <summary>
/// Turns a line recognizer's output (T time steps × C classes of log-probabilities; class 0 the CTC blank, class i the
/// alphabet's character i − 1) into text: CTC prefix beam search under a mask of allowed characters, with the language's
/// letter prior and letter pairs as a character-level bonus, then each character's time steps, confidence and alternatives.
/// Immutable and thread-safe: one decoder serves every thread.
/// </summary>
/// <example>
/// <code>
/// const string alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz -'";
/// var decoder = new CtcDecoder(alphabet, new CtcDecoderOptions { AllowedCharacters = CtcDecoder.AllowedCharactersFor(FieldKind.Upper, alphabet) });
/// CtcDecoding line = decoder.Decode(logSoftmax, timeSteps); // logSoftmax: timeSteps × (alphabet.Length + 1), row-major
/// Console.WriteLine($"{line.Text} ({line.Confidence:P0})");
/// </code>
/// </example>
public sealed class CtcDecoder
{
    /// <summary>
    /// Per time step, the beam search extends prefixes only by the classes at least e^−12 as probable as the step's best
    /// (and at most <see cref="MinClassesPerStep"/> or twice the beam): the rest cannot reach the beam, and skipping them
    /// keeps a flat step from costing beam × classes extensions.
    /// </summary>
    private const float PruneLogRatio = 12f;

    private const int MinClassesPerStep = 16;

    private readonly string alphabet;
    private readonly int classes;
    private readonly bool[] allowed;
    private readonly int[] allowedClasses;
    private readonly int beamWidth;
    private readonly int classesPerStep;
    private readonly int alternatives;

    /// <summary>[p · classes + c]: the language model's bonus for class c written after class p (0: the line's start).</summary>
    private readonly double[] transition;

    /// <summary>[p]: the bonus for ending the line after class p (a letter that ends words often earns).</summary>
    private readonly double[] lineEnd;

    /// <summary>Creates a decoder for a network whose classes are the blank and then <paramref name="alphabet"/>'s characters.</summary>
    /// <param name="alphabet">The characters of classes 1, 2, …, in order; each once.</param>
    /// <param name="options">Beam width, allowed characters, language; null for the defaults.</param>
    /// <exception cref="ArgumentException">The alphabet is empty or repeats a character, or options are invalid (all listed at once).</exception>
    /// <example><code>var decoder = new CtcDecoder("0123456789", new CtcDecoderOptions { LetterFrequencies = null });</code></example>
    public CtcDecoder(string alphabet, CtcDecoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(alphabet);
        if (alphabet.Length == 0)
            throw new ArgumentException("The alphabet is empty; give the characters of the network's classes 1, 2, … in order.", nameof(alphabet));
        var repeated = alphabet.GroupBy(c => c).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        if (repeated.Length > 0)
        {
            throw new ArgumentException(
                $"The alphabet '{alphabet}' holds '{new string(repeated)}' more than once; each class needs a character of its own.", nameof(alphabet));
        }

        options ??= new CtcDecoderOptions();
        options.Validate(alphabet);
        this.alphabet = alphabet;
        classes = alphabet.Length + 1;
        beamWidth = options.BeamWidth;
        classesPerStep = Math.Max(MinClassesPerStep, 2 * beamWidth);
        alternatives = options.Alternatives;
        allowed = new bool[classes];
        allowed[0] = true;
        for (int c = 1; c < classes; c++)
            allowed[c] = options.AllowedCharacters is null || options.AllowedCharacters.Contains(alphabet[c - 1], StringComparison.Ordinal);
        allowedClasses = Enumerable.Range(1, classes - 1).Where(c => allowed[c]).ToArray();
        (transition, lineEnd) = LanguageModel(options);
    }

    /// <summary>The characters of classes 1, 2, …</summary>
    public string Alphabet => alphabet;

    /// <summary>The classes per time step the scores must have: the alphabet's length + 1 (the blank).</summary>
    public int ClassCount => classes;

    /// <summary>
    /// The characters a field of <paramref name="kind"/> may hold, among <paramref name="alphabet"/>'s, in its order: for
    /// <see cref="CtcDecoderOptions.AllowedCharacters"/>. Digits: 0–9. Upper: A–Z with the space, hyphen and apostrophe
    /// (names: JEAN-PIERRE, O'NEIL, VAN DER BERG); Lower: a–z with the same three; Letters: both cases with the three;
    /// Alphanumeric: the whole alphabet. Characters the alphabet lacks are left out.
    /// </summary>
    /// <exception cref="ArgumentException">The alphabet holds none of the kind's characters, or the kind is unknown.</exception>
    /// <example>
    /// <code>
    /// string digits = CtcDecoder.AllowedCharactersFor(FieldKind.Digits, alphabet); // "0123456789"
    /// </code>
    /// </example>
    public static string AllowedCharactersFor(FieldKind kind, string alphabet)
    {
        ArgumentNullException.ThrowIfNull(alphabet);
        const string WordMarks = " -'";
        string? wanted = kind switch
        {
            FieldKind.Digits => ClassMask.DigitCharacters,
            FieldKind.Upper => ClassMask.CapitalCharacters + WordMarks,
            FieldKind.Lower => ClassMask.SmallCharacters + WordMarks,
            FieldKind.Letters => ClassMask.CapitalCharacters + ClassMask.SmallCharacters + WordMarks,
            FieldKind.Alphanumeric => null,
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Use Alphanumeric, Digits, Upper, Lower or Letters."),
        };
        string characters = wanted is null ? alphabet : new string(alphabet.Where(c => wanted.Contains(c, StringComparison.Ordinal)).ToArray());
        if (characters.Length == 0)
            throw new ArgumentException($"The alphabet '{alphabet}' holds none of the characters of a {kind} field ('{wanted}').", nameof(alphabet));
        return characters;
    }

    /// <summary>Decodes one line.</summary>
    /// <param name="logProbabilities">
    /// The network's log-probabilities (log-softmax), <paramref name="timeSteps"/> × <see cref="ClassCount"/>, row-major:
    /// time step t's class c at [t · ClassCount + c].
    /// </param>
    /// <param name="timeSteps">How many time steps the line has (0 gives <see cref="CtcDecoding.Empty"/>).</param>
    /// <exception cref="ArgumentException">The length is not timeSteps × ClassCount, or a time step has a NaN, +∞, or no finite score among the allowed classes and the blank.</exception>
    /// <example><code>CtcDecoding line = decoder.Decode(output.AsSpan(0, 64 * decoder.ClassCount), 64);</code></example>
    public CtcDecoding Decode(ReadOnlySpan<float> logProbabilities, int timeSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(timeSteps);
        if (logProbabilities.Length != (long)timeSteps * classes)
        {
            throw new ArgumentException(
                $"The scores hold {logProbabilities.Length} values; {timeSteps} time steps × {classes} classes (the blank and the alphabet's {alphabet.Length}) need {(long)timeSteps * classes}.",
                nameof(logProbabilities));
        }

        if (timeSteps == 0)
            return CtcDecoding.Empty;
        var scores = new float[timeSteps * classes];
        Normalise(logProbabilities, timeSteps, scores);
        int[] labelling = beamWidth == 1 ? BestPath(scores, timeSteps) : BeamSearch(scores, timeSteps);
        return Describe(scores, timeSteps, labelling);
    }

    /// <summary>Decodes several lines of the same length, one after another (the decoder is thread-safe for callers that parallelise).</summary>
    /// <param name="scores">The lines' log-probabilities, <paramref name="lines"/> × <paramref name="timeSteps"/> × <see cref="ClassCount"/>, row-major.</param>
    /// <param name="lines">How many lines.</param>
    /// <param name="timeSteps">The time steps of each line.</param>
    /// <exception cref="ArgumentException">The length is not lines × timeSteps × ClassCount, or a line's scores are invalid (see <see cref="Decode"/>).</exception>
    /// <example><code>IReadOnlyList&lt;CtcDecoding&gt; read = decoder.DecodeBatch(batchOutput, batchSize, 64);</code></example>
    public IReadOnlyList<CtcDecoding> DecodeBatch(ReadOnlySpan<float> scores, int lines, int timeSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lines);
        ArgumentOutOfRangeException.ThrowIfNegative(timeSteps);
        long perLine = (long)timeSteps * classes;
        if (scores.Length != lines * perLine)
        {
            throw new ArgumentException(
                $"The scores hold {scores.Length} values; {lines} lines × {timeSteps} time steps × {classes} classes need {lines * perLine}.", nameof(scores));
        }

        var decodings = new CtcDecoding[lines];
        for (int line = 0; line < lines; line++)
            decodings[line] = Decode(scores.Slice((int)(line * perLine), (int)perLine), timeSteps);
        return decodings;
    }

    /// <summary>The language model's tables: the bonus per (previous class, class) and per last class at the line's end.</summary>
    private (double[] Transition, double[] LineEnd) LanguageModel(CtcDecoderOptions options)
    {
        var transitionTable = new double[classes * classes];
        var end = new double[classes];
        if (options.LetterFrequencies is not { } language)
            return (transitionTable, end);
        var labels = alphabet.Select(c => c.ToString()).ToArray();
        var prior = language.LogRelativeFrequencies(labels, allowed[1..]);
        // The pair table's symbols: a letter, or a space for a word's edge (the line's start and end, a space, a hyphen);
        // other characters (digits, apostrophes) neither earn nor cost.
        char Symbol(int c)
        {
            char x = c == 0 ? ' ' : alphabet[c - 1];
            return char.IsLetter(x) ? x : x is ' ' or '-' ? ' ' : '\0';
        }

        double Pair(int p, int c) =>
            Symbol(p) is var a and not '\0' && Symbol(c) is var b and not '\0' ? options.PairWeight * language.PairLogRatio(a, b) : 0;
        for (int p = 0; p < classes; p++)
        {
            for (int c = 1; c < classes; c++)
                transitionTable[p * classes + c] = options.PriorWeight * prior[c - 1] + Pair(p, c);
            end[p] = p == 0 ? 0 : Pair(p, 0);
        }

        return (transitionTable, end);
    }

    /// <summary>Masks and renormalises each time step over the allowed classes and the blank, in log space.</summary>
    private void Normalise(ReadOnlySpan<float> input, int timeSteps, float[] output)
    {
        for (int t = 0; t < timeSteps; t++)
        {
            var row = input.Slice(t * classes, classes);
            float max = float.NegativeInfinity;
            for (int c = 0; c < classes; c++)
            {
                if (allowed[c] && row[c] > max)
                    max = row[c];
            }

            double sum = 0;
            for (int c = 0; c < classes; c++)
            {
                if (allowed[c])
                    sum += Math.Exp(row[c] - max);
            }

            float logTotal = (float)(max + Math.Log(sum));
            if (!float.IsFinite(logTotal))
            {
                throw new ArgumentException(
                    $"Time step {t} has a NaN or +∞ score, or no finite score among the blank and the allowed characters; give log-probabilities (log-softmax).",
                    nameof(input));
            }

            for (int c = 0; c < classes; c++)
                output[t * classes + c] = allowed[c] ? row[c] - logTotal : float.NegativeInfinity;
        }
    }

    /// <summary>Best-path decoding: each step's best class, repeats collapsed, blanks dropped.</summary>
    private int[] BestPath(float[] scores, int timeSteps)
    {
        var labelling = new List<int>();
        int previous = 0;
        for (int t = 0; t < timeSteps; t++)
        {
            int best = 0;
            for (int c = 1; c < classes; c++)
            {
                if (scores[t * classes + c] > scores[t * classes + best])
                    best = c;
            }

            if (best != 0 && best != previous)
                labelling.Add(best);
            previous = best;
        }

        return [.. labelling];
    }

    /// <summary>
    /// CTC prefix beam search: each prefix keeps the log-probability of its alignments ending in a blank and ending in its
    /// last character, so that a repeat extends it only across a blank; prefixes are ranked by that probability plus the
    /// language model's bonus. Prefixes are nodes of a tree in arrays (parent, class), so no step allocates.
    /// </summary>
    private int[] BeamSearch(float[] scores, int timeSteps)
    {
        int width = beamWidth;
        int maxNodes = timeSteps * width + 1;
        var nodeParent = new int[maxNodes];
        var nodeClass = new int[maxNodes];
        var nodeBeam = new int[maxNodes];
        Array.Fill(nodeBeam, -1);
        nodeParent[0] = -1;
        int nodes = 1;

        var beamNode = new int[width];
        var beamBlank = new double[width];
        var beamLast = new double[width];
        var beamBonus = new double[width];
        int beams = 1;
        beamBlank[0] = 0;
        beamLast[0] = double.NegativeInfinity;

        int perStep = Math.Min(classesPerStep, allowedClasses.Length);
        int capacity = width + width * perStep;
        var candNode = new int[capacity];
        var candParent = new int[capacity];
        var candClass = new int[capacity];
        var candBlank = new double[capacity];
        var candLast = new double[capacity];
        var candBonus = new double[capacity];
        var mergeInto = new int[width * classes];
        Array.Fill(mergeInto, -1);
        var merges = new int[width];
        var stepClasses = new int[perStep];
        var top = new int[width];
        var topScore = new double[width];

        for (int t = 0; t < timeSteps; t++)
        {
            int row = t * classes;
            int stepCount = TopClasses(scores, row, stepClasses);
            double blank = scores[row];

            // Staying: the prefix is unchanged, by a blank or by its last character again.
            for (int b = 0; b < beams; b++)
            {
                int last = nodeClass[beamNode[b]];
                nodeBeam[beamNode[b]] = b;
                candNode[b] = beamNode[b];
                candBlank[b] = LogAdd(beamBlank[b], beamLast[b]) + blank;
                candLast[b] = last != 0 ? beamLast[b] + scores[row + last] : double.NegativeInfinity;
                candBonus[b] = beamBonus[b];
            }

            // A prefix in the beam that is another's extension by one character gathers that extension's probability.
            int mergeCount = 0;
            for (int b = 0; b < beams; b++)
            {
                int parent = nodeParent[beamNode[b]];
                if (parent >= 0 && nodeBeam[parent] >= 0)
                {
                    int key = nodeBeam[parent] * classes + nodeClass[beamNode[b]];
                    mergeInto[key] = b;
                    merges[mergeCount++] = key;
                }
            }

            int count = beams;
            for (int b = 0; b < beams; b++)
            {
                int last = nodeClass[beamNode[b]];
                double total = LogAdd(beamBlank[b], beamLast[b]);
                for (int k = 0; k < stepCount; k++)
                {
                    int c = stepClasses[k];
                    // A repeated character is a new one only after a blank.
                    double probability = (c == last ? beamBlank[b] : total) + scores[row + c];
                    if (double.IsNegativeInfinity(probability))
                        continue;
                    int into = mergeInto[b * classes + c];
                    if (into >= 0)
                    {
                        candLast[into] = LogAdd(candLast[into], probability);
                        continue;
                    }

                    candNode[count] = -1;
                    candParent[count] = beamNode[b];
                    candClass[count] = c;
                    candBlank[count] = double.NegativeInfinity;
                    candLast[count] = probability;
                    candBonus[count] = beamBonus[b] + transition[last * classes + c];
                    count++;
                }
            }

            for (int b = 0; b < beams; b++)
                nodeBeam[beamNode[b]] = -1;
            for (int m = 0; m < mergeCount; m++)
                mergeInto[merges[m]] = -1;

            // The best `width` candidates, by insertion into a short sorted list.
            int kept = 0;
            for (int i = 0; i < count; i++)
            {
                double score = LogAdd(candBlank[i], candLast[i]) + candBonus[i];
                if (double.IsNegativeInfinity(score) || (kept == width && score <= topScore[kept - 1]))
                    continue;
                int at = kept < width ? kept++ : kept - 1;
                while (at > 0 && topScore[at - 1] < score)
                {
                    top[at] = top[at - 1];
                    topScore[at] = topScore[at - 1];
                    at--;
                }

                top[at] = i;
                topScore[at] = score;
            }

            for (int b = 0; b < kept; b++)
            {
                int i = top[b];
                int node = candNode[i];
                if (node < 0)
                {
                    node = nodes++;
                    nodeParent[node] = candParent[i];
                    nodeClass[node] = candClass[i];
                }

                beamNode[b] = node;
                beamBlank[b] = candBlank[i];
                beamLast[b] = candLast[i];
                beamBonus[b] = candBonus[i];
            }

            beams = kept;
        }

        int best = 0;
        double bestScore = double.NegativeInfinity;
        for (int b = 0; b < beams; b++)
        {
            double score = LogAdd(beamBlank[b], beamLast[b]) + beamBonus[b] + lineEnd[nodeClass[beamNode[b]]];
            if (score > bestScore)
                (best, bestScore) = (b, score);
        }

        var labelling = new List<int>();
        for (int node = beamNode[best]; node > 0; node = nodeParent[node])
            labelling.Add(nodeClass[node]);
        labelling.Reverse();
        return [.. labelling];
    }

    /// <summary>The step's most probable allowed characters, within <see cref="PruneLogRatio"/> of its best class; returns how many.</summary>
    private int TopClasses(float[] scores, int row, int[] chosen)
    {
        float best = float.NegativeInfinity;
        for (int c = 0; c < classes; c++)
            best = Math.Max(best, scores[row + c]);
        float floor = best - PruneLogRatio;
        int count = 0;
        foreach (int c in allowedClasses)
        {
            float score = scores[row + c];
            if (score < floor || (count == chosen.Length && score <= scores[row + chosen[count - 1]]))
                continue;
            int at = count < chosen.Length ? count++ : count - 1;
            while (at > 0 && scores[row + chosen[at - 1]] < score)
            {
                chosen[at] = chosen[at - 1];
                at--;
            }

            chosen[at] = c;
        }

        return count;
    }

    /// <summary>
    /// The decoding of a labelling: its probability by CTC's forward algorithm, and each character's time steps from the
    /// most probable alignment (Viterbi over the labelling with blanks between), with its peak probability and alternatives.
    /// </summary>
    private CtcDecoding Describe(float[] scores, int timeSteps, int[] labelling)
    {
        int length = labelling.Length;
        int states = 2 * length + 1;
        // State s: even a blank, odd the character labelling[(s − 1) / 2].
        int ClassOf(int s) => (s & 1) == 0 ? 0 : labelling[s >> 1];
        var forward = new double[states];
        var viterbi = new double[states];
        var nextForward = new double[states];
        var nextViterbi = new double[states];
        var from = new int[timeSteps * states];
        Array.Fill(forward, double.NegativeInfinity);
        Array.Fill(viterbi, double.NegativeInfinity);
        forward[0] = viterbi[0] = scores[0];
        if (states > 1)
            forward[1] = viterbi[1] = scores[ClassOf(1)];
        for (int t = 1; t < timeSteps; t++)
        {
            for (int s = 0; s < states; s++)
            {
                double sum = forward[s], bestValue = viterbi[s];
                int bestFrom = s;
                if (s >= 1)
                {
                    sum = LogAdd(sum, forward[s - 1]);
                    if (viterbi[s - 1] > bestValue)
                        (bestValue, bestFrom) = (viterbi[s - 1], s - 1);
                }

                // A character may follow the previous one without a blank unless it is the same character.
                if (s >= 2 && (s & 1) == 1 && ClassOf(s) != ClassOf(s - 2))
                {
                    sum = LogAdd(sum, forward[s - 2]);
                    if (viterbi[s - 2] > bestValue)
                        (bestValue, bestFrom) = (viterbi[s - 2], s - 2);
                }

                double emit = scores[t * classes + ClassOf(s)];
                nextForward[s] = sum + emit;
                nextViterbi[s] = bestValue + emit;
                from[t * states + s] = bestFrom;
            }

            (forward, nextForward) = (nextForward, forward);
            (viterbi, nextViterbi) = (nextViterbi, viterbi);
        }

        double logProbability = states > 1 ? LogAdd(forward[states - 1], forward[states - 2]) : forward[0];
        float confidence = (float)Math.Clamp(Math.Exp(logProbability), 0, 1);
        if (length == 0)
            return new CtcDecoding("", confidence, []);

        // Back along the best alignment: each character's first and last time step.
        var first = new int[length];
        var lastStep = new int[length];
        Array.Fill(lastStep, -1);
        int state = viterbi[states - 1] >= viterbi[states - 2] ? states - 1 : states - 2;
        for (int t = timeSteps - 1; t >= 0; t--)
        {
            if ((state & 1) == 1)
            {
                int i = state >> 1;
                if (lastStep[i] < 0)
                    lastStep[i] = t;
                first[i] = t;
            }

            if (t > 0)
                state = from[t * states + state];
        }

        var characters = new CtcCharacter[length];
        var text = new char[length];
        for (int i = 0; i < length; i++)
        {
            int c = labelling[i];
            int peak = first[i];
            for (int t = first[i] + 1; t <= lastStep[i]; t++)
            {
                if (scores[t * classes + c] > scores[peak * classes + c])
                    peak = t;
            }

            text[i] = alphabet[c - 1];
            characters[i] = new CtcCharacter(text[i], first[i], lastStep[i], Probability(scores[peak * classes + c]), AlternativesAt(scores, peak, c));
        }

        return new CtcDecoding(new string(text), confidence, characters);
    }

    /// <summary>The best allowed characters other than <paramref name="chosen"/> at a time step, best first.</summary>
    private CtcAlternative[] AlternativesAt(float[] scores, int timeStep, int chosen)
    {
        int row = timeStep * classes;
        var others = allowedClasses.Where(c => c != chosen)
            .OrderByDescending(c => scores[row + c])
            .Take(alternatives)
            .Select(c => new CtcAlternative(alphabet[c - 1], Probability(scores[row + c])));
        return others.ToArray();
    }

    private static float Probability(float logProbability) => Math.Clamp(MathF.Exp(logProbability), 0f, 1f);

    /// <summary>ln(eᵃ + eᵇ), exact where either is −∞.</summary>
    private static double LogAdd(double a, double b)
    {
        if (double.IsNegativeInfinity(a))
            return b;
        if (double.IsNegativeInfinity(b))
            return a;
        return a > b ? a + Math.Log(1 + Math.Exp(b - a)) : b + Math.Log(1 + Math.Exp(a - b));
    }
}
