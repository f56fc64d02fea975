using Ocr.MLNet.Text;

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
    /// Per time step, the beam search extends prefixes only by the classes at least e^−12 as probable as the step's best,
    /// and by at most <see cref="ExtraClassesPerStep"/> more than the beam is wide: an extension by a class ranked below
    /// that loses to the beam's width of extensions of the same prefix unless the language model turns the order round,
    /// and a network's step rarely leaves more than a few classes in play. Skipping them keeps a flat step from costing
    /// beam × classes extensions.
    /// </summary>
    private const float PruneLogRatio = 12f;

    private const int ExtraClassesPerStep = 4;

    private static readonly float PruneFactor = MathF.Exp(-PruneLogRatio);

    private readonly string alphabet;
    private readonly int classes;
    private readonly bool[] allowed;
    private readonly int[] allowedClasses;
    private readonly int beamWidth;
    private readonly int classesPerStep;
    private readonly int alternatives;

    /// <summary>
    /// [p · classes + c]: the language model's factor for class c written after class p (0: the line's start), e^bonus:
    /// the beam search works with probabilities, not their logarithms, so that no step takes a logarithm.
    /// </summary>
    private readonly double[] transition;

    /// <summary>[p]: the largest factor of any class after class p, which bounds what an extension can earn.</summary>
    private readonly double[] maxTransition;

    /// <summary>[p]: the factor for ending the line after class p (a letter that ends words often earns).</summary>
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
        classesPerStep = beamWidth + ExtraClassesPerStep;
        alternatives = options.Alternatives;
        allowed = new bool[classes];
        allowed[0] = true;
        for (int c = 1; c < classes; c++)
            allowed[c] = options.AllowedCharacters is null || options.AllowedCharacters.Contains(alphabet[c - 1], StringComparison.Ordinal);
        allowedClasses = Enumerable.Range(1, classes - 1).Where(c => allowed[c]).ToArray();
        (transition, lineEnd) = LanguageModel(options);
        maxTransition = new double[classes];
        for (int p = 0; p < classes; p++)
            maxTransition[p] = allowedClasses.Max(c => transition[p * classes + c]);
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
        CheckShape(logProbabilities, timeSteps);
        if (timeSteps == 0)
            return CtcDecoding.Empty;
        var scores = new float[timeSteps * classes];
        var probabilities = new float[timeSteps * classes];
        Normalise(logProbabilities, timeSteps, scores, probabilities);
        int[] labelling = beamWidth == 1 ? BestPath(scores, timeSteps) : BeamSearch(probabilities, timeSteps);
        return Describe(scores, probabilities, timeSteps, labelling);
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

    /// <summary>
    /// The probability of <paramref name="text"/> under one line's scores, as <see cref="CtcDecoding.Confidence"/> gives it for
    /// a decoded text (every alignment summed, each time step renormalised over the allowed characters and the blank): how
    /// another reading of the same field, or another view of it, scores a candidate. 0 for a text with a character the
    /// decoder does not allow or too long for the line.
    /// </summary>
    /// <param name="logProbabilities">The line's log-probabilities, as for <see cref="Decode"/>.</param>
    /// <param name="timeSteps">How many time steps the line has.</param>
    /// <param name="text">The candidate text.</param>
    /// <exception cref="ArgumentException">The scores are invalid (see <see cref="Decode"/>).</exception>
    /// <example><code>float p = decoder.Probability(otherView, 64, line.Text);   // does the other view agree?</code></example>
    public float Probability(ReadOnlySpan<float> logProbabilities, int timeSteps, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        CheckShape(logProbabilities, timeSteps);
        var labelling = new int[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            labelling[i] = alphabet.IndexOf(text[i], StringComparison.Ordinal) + 1;
            if (labelling[i] == 0 || !allowed[labelling[i]])
                return 0f;
        }

        if (timeSteps == 0)
            return text.Length == 0 ? 1f : 0f;
        if (text.Length > timeSteps)
            return 0f;
        var scores = new float[timeSteps * classes];
        var probabilities = new float[timeSteps * classes];
        Normalise(logProbabilities, timeSteps, scores, probabilities);
        return Describe(scores, probabilities, timeSteps, labelling).Confidence;
    }

    /// <summary>Refuses scores that are not <paramref name="timeSteps"/> × <see cref="ClassCount"/>, with the numbers.</summary>
    private void CheckShape(ReadOnlySpan<float> logProbabilities, int timeSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(timeSteps);
        if (logProbabilities.Length != (long)timeSteps * classes)
        {
            throw new ArgumentException(
                $"The scores hold {logProbabilities.Length} values; {timeSteps} time steps × {classes} classes (the blank and the alphabet's {alphabet.Length}) need {(long)timeSteps * classes}.",
                nameof(logProbabilities));
        }
    }

    /// <summary>The language model's tables: the bonus per (previous class, class) and per last class at the line's end.</summary>
    private (double[] Transition, double[] LineEnd) LanguageModel(CtcDecoderOptions options)
    {
        var transitionTable = new double[classes * classes];
        var end = new double[classes];
        Array.Fill(transitionTable, 1);
        Array.Fill(end, 1);
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
                transitionTable[p * classes + c] = Math.Exp(options.PriorWeight * prior[c - 1] + Pair(p, c));
            end[p] = p == 0 ? 1 : Math.Exp(Pair(p, 0));
        }

        return (transitionTable, end);
    }

    /// <summary>
    /// Masks and renormalises each time step over the allowed classes and the blank: log-probabilities into
    /// <paramref name="scores"/>, probabilities into <paramref name="probabilities"/> (0 for masked classes).
    /// </summary>
    private void Normalise(ReadOnlySpan<float> input, int timeSteps, float[] scores, float[] probabilities)
    {
        for (int t = 0; t < timeSteps; t++)
        {
            var row = input.Slice(t * classes, classes);
            int at = t * classes;
            float max = float.NegativeInfinity;
            for (int c = 0; c < classes; c++)
            {
                if (allowed[c] && row[c] > max)
                    max = row[c];
            }

            float sum = 0;
            for (int c = 0; c < classes; c++)
            {
                float e = allowed[c] ? MathF.Exp(row[c] - max) : 0;
                probabilities[at + c] = e;
                sum += e;
            }

            float logTotal = max + MathF.Log(sum);
            if (!float.IsFinite(logTotal))
            {
                throw new ArgumentException(
                    $"Time step {t} has a NaN or +∞ score, or no finite score among the blank and the allowed characters; give log-probabilities (log-softmax).",
                    "logProbabilities");
            }

            float inverse = 1 / sum;
            for (int c = 0; c < classes; c++)
            {
                probabilities[at + c] *= inverse;
                scores[at + c] = allowed[c] ? row[c] - logTotal : float.NegativeInfinity;
            }
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
    /// CTC prefix beam search: each prefix keeps the probability of its alignments ending in a blank and of those ending in
    /// its last character, so that a repeat extends it only across a blank; prefixes are ranked by their probability times
    /// the language model's factor. Probabilities, not logarithms, rescaled each step (every prefix by the same number,
    /// which leaves the ranking as it is) so they cannot underflow. Prefixes are nodes of a tree held in arrays (parent,
    /// class), so no step allocates.
    /// </summary>
    private int[] BeamSearch(float[] probabilities, int timeSteps)
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
        var beamFactor = new double[width];
        int beams = 1;
        beamBlank[0] = 1;
        beamFactor[0] = 1;

        int perStep = Math.Min(classesPerStep, allowedClasses.Length);
        int capacity = width + width * perStep;
        var candNode = new int[capacity];
        var candParent = new int[capacity];
        var candClass = new int[capacity];
        var candBlank = new double[capacity];
        var candLast = new double[capacity];
        var candFactor = new double[capacity];
        var mergeInto = new int[width * classes];
        Array.Fill(mergeInto, -1);
        var merges = new int[width];
        var stepClasses = new int[perStep];
        var top = new int[width];
        var topScore = new double[width];

        for (int t = 0; t < timeSteps; t++)
        {
            int row = t * classes;
            int stepCount = TopClasses(probabilities, row, stepClasses);
            double blank = probabilities[row];

            // Staying: the prefix is unchanged, by a blank or by its last character again.
            for (int b = 0; b < beams; b++)
            {
                int last = nodeClass[beamNode[b]];
                nodeBeam[beamNode[b]] = b;
                candNode[b] = beamNode[b];
                candBlank[b] = (beamBlank[b] + beamLast[b]) * blank;
                candLast[b] = last != 0 ? beamLast[b] * probabilities[row + last] : 0;
                candFactor[b] = beamFactor[b];
            }

            // A prefix in the beam that is another's extension by one character gathers that extension's probability now,
            // so every staying prefix's score is final before the selection starts.
            int mergeCount = 0;
            for (int b = 0; b < beams; b++)
            {
                int parent = nodeParent[beamNode[b]];
                int a = parent >= 0 ? nodeBeam[parent] : -1;
                if (a < 0)
                    continue;
                int c = nodeClass[beamNode[b]];
                candLast[b] += (c == nodeClass[parent] ? beamBlank[a] : beamBlank[a] + beamLast[a]) * probabilities[row + c];
                int key = a * classes + c;
                mergeInto[key] = b;
                merges[mergeCount++] = key;
            }

            // The best `width` candidates, by insertion into a short sorted list as they come.
            int kept = 0;
            for (int b = 0; b < beams; b++)
                Offer(top, topScore, ref kept, b, (candBlank[b] + candLast[b]) * candFactor[b]);
            int count = beams;
            for (int b = 0; b < beams; b++)
            {
                int last = nodeClass[beamNode[b]];
                double total = beamBlank[b] + beamLast[b];
                double bound = total * beamFactor[b] * maxTransition[last];
                for (int k = 0; k < stepCount; k++)
                {
                    int c = stepClasses[k];
                    double p = probabilities[row + c];
                    // The classes come best first: once even the best factor cannot lift one into the beam, none can.
                    if (kept == width && bound * p <= topScore[width - 1])
                        break;
                    // A repeated character is a new one only after a blank.
                    double probability = (c == last ? beamBlank[b] : total) * p;
                    if (probability == 0 || mergeInto[b * classes + c] >= 0)
                        continue;
                    double factor = beamFactor[b] * transition[last * classes + c];
                    double score = probability * factor;
                    if (kept == width && score <= topScore[width - 1])
                        continue;
                    candNode[count] = -1;
                    candParent[count] = beamNode[b];
                    candClass[count] = c;
                    candBlank[count] = 0;
                    candLast[count] = probability;
                    candFactor[count] = factor;
                    Offer(top, topScore, ref kept, count, score);
                    count++;
                }
            }

            for (int b = 0; b < beams; b++)
                nodeBeam[beamNode[b]] = -1;
            for (int m = 0; m < mergeCount; m++)
                mergeInto[merges[m]] = -1;

            double scale = 0;
            for (int b = 0; b < kept; b++)
                scale = Math.Max(scale, candBlank[top[b]] + candLast[top[b]]);
            double rescale = scale > 0 ? 1 / scale : 1;
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
                beamBlank[b] = candBlank[i] * rescale;
                beamLast[b] = candLast[i] * rescale;
                beamFactor[b] = candFactor[i];
            }

            beams = kept;
        }

        int best = 0;
        double bestScore = -1;
        for (int b = 0; b < beams; b++)
        {
            double score = (beamBlank[b] + beamLast[b]) * beamFactor[b] * lineEnd[nodeClass[beamNode[b]]];
            if (score > bestScore)
                (best, bestScore) = (b, score);
        }

        var labelling = new List<int>();
        for (int node = beamNode[best]; node > 0; node = nodeParent[node])
            labelling.Add(nodeClass[node]);
        labelling.Reverse();
        return [.. labelling];
    }

    /// <summary>Puts candidate <paramref name="candidate"/> into the sorted list of the best, if it belongs there.</summary>
    private static void Offer(int[] top, double[] topScore, ref int kept, int candidate, double score)
    {
        int width = top.Length;
        if (score <= 0 || (kept == width && score <= topScore[width - 1]))
            return;
        int at = kept < width ? kept++ : width - 1;
        while (at > 0 && topScore[at - 1] < score)
        {
            top[at] = top[at - 1];
            topScore[at] = topScore[at - 1];
            at--;
        }

        top[at] = candidate;
        topScore[at] = score;
    }

    /// <summary>The step's most probable allowed characters, at least e^−<see cref="PruneLogRatio"/> of its best class; returns how many.</summary>
    private int TopClasses(float[] probabilities, int row, int[] chosen)
    {
        float best = 0;
        for (int c = 0; c < classes; c++)
            best = Math.Max(best, probabilities[row + c]);
        float floor = best * PruneFactor;
        int count = 0;
        foreach (int c in allowedClasses)
        {
            float p = probabilities[row + c];
            if (p < floor || p == 0 || (count == chosen.Length && p <= probabilities[row + chosen[count - 1]]))
                continue;
            int at = count < chosen.Length ? count++ : count - 1;
            while (at > 0 && probabilities[row + chosen[at - 1]] < p)
            {
                chosen[at] = chosen[at - 1];
                at--;
            }

            chosen[at] = c;
        }

        return count;
    }

    /// <summary>
    /// The decoding of a labelling: its probability by CTC's forward algorithm (probabilities rescaled each step, the scales'
    /// logarithms summed), and each character's time steps from the most probable alignment (Viterbi over the labelling
    /// with blanks between, in log space), with its peak probability and alternatives.
    /// </summary>
    private CtcDecoding Describe(float[] scores, float[] probabilities, int timeSteps, int[] labelling)
    {
        int length = labelling.Length;
        int states = 2 * length + 1;
        // State s: even a blank, odd the character labelling[(s − 1) / 2].
        var stateClass = new int[states];
        for (int s = 1; s < states; s += 2)
            stateClass[s] = labelling[s >> 1];
        var forward = new double[states];
        var viterbi = new double[states];
        var nextForward = new double[states];
        var nextViterbi = new double[states];
        var from = new byte[timeSteps * states];
        Array.Fill(viterbi, double.NegativeInfinity);
        forward[0] = probabilities[0];
        viterbi[0] = scores[0];
        if (states > 1)
        {
            forward[1] = probabilities[stateClass[1]];
            viterbi[1] = scores[stateClass[1]];
        }

        double logScale = 0;
        for (int t = 1; t < timeSteps; t++)
        {
            int row = t * classes;
            double sum = 0;
            for (int s = 0; s < states; s++)
            {
                double reach = forward[s], bestValue = viterbi[s];
                byte back = 0;
                if (s >= 1)
                {
                    reach += forward[s - 1];
                    if (viterbi[s - 1] > bestValue)
                        (bestValue, back) = (viterbi[s - 1], 1);
                }

                // A character may follow the previous one without a blank unless it is the same character.
                if ((s & 1) == 1 && s >= 2 && stateClass[s] != stateClass[s - 2])
                {
                    reach += forward[s - 2];
                    if (viterbi[s - 2] > bestValue)
                        (bestValue, back) = (viterbi[s - 2], 2);
                }

                int c = stateClass[s];
                nextForward[s] = reach * probabilities[row + c];
                sum += nextForward[s];
                nextViterbi[s] = bestValue + scores[row + c];
                from[t * states + s] = back;
            }

            // Rescaled, so a long line cannot underflow.
            if (sum > 0)
            {
                logScale += Math.Log(sum);
                for (int s = 0; s < states; s++)
                    nextForward[s] /= sum;
            }

            (forward, nextForward) = (nextForward, forward);
            (viterbi, nextViterbi) = (nextViterbi, viterbi);
        }

        double end = states > 1 ? forward[states - 1] + forward[states - 2] : forward[0];
        float confidence = end > 0 ? (float)Math.Clamp(Math.Exp(logScale + Math.Log(end)), 0, 1) : 0f;
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
                state -= from[t * states + state];
        }

        var characters = new CtcCharacter[length];
        var text = new char[length];
        for (int i = 0; i < length; i++)
        {
            int c = labelling[i];
            int peak = first[i];
            for (int t = first[i] + 1; t <= lastStep[i]; t++)
            {
                if (probabilities[t * classes + c] > probabilities[peak * classes + c])
                    peak = t;
            }

            text[i] = alphabet[c - 1];
            characters[i] = new CtcCharacter(text[i], first[i], lastStep[i], probabilities[peak * classes + c], AlternativesAt(probabilities, peak, c));
        }

        return new CtcDecoding(new string(text), confidence, characters);
    }

    /// <summary>The best allowed characters other than <paramref name="chosen"/> at a time step, best first.</summary>
    private CtcAlternative[] AlternativesAt(float[] probabilities, int timeStep, int chosen)
    {
        int row = timeStep * classes;
        var best = new int[Math.Min(alternatives, allowedClasses.Length - 1)];
        if (best.Length == 0)
            return [];
        int count = 0;
        foreach (int c in allowedClasses)
        {
            float p = probabilities[row + c];
            if (c == chosen || (count == best.Length && p <= probabilities[row + best[count - 1]]))
                continue;
            int at = count < best.Length ? count++ : count - 1;
            while (at > 0 && probabilities[row + best[at - 1]] < p)
            {
                best[at] = best[at - 1];
                at--;
            }

            best[at] = c;
        }

        var others = new CtcAlternative[count];
        for (int i = 0; i < count; i++)
            others[i] = new CtcAlternative(alphabet[best[i] - 1], probabilities[row + best[i]]);
        return others;
    }
}
