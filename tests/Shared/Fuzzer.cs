using System.Diagnostics;

namespace Ocr.MLNet.Tests;

/// <summary>How many mutated inputs were tried, how many were read and how many refused, and the slowest.</summary>
internal sealed record FuzzOutcomes(int Tried, int Loaded, int Refused, TimeSpan Slowest);

/// <summary>
/// Seeded mutations of real inputs, each run under a time bound: every one must be read or refused with the documented
/// error; never a hang, a crash or another exception.
/// </summary>
internal static class Fuzzer
{
    /// <summary>
    /// Runs <paramref name="load"/> on <paramref name="count"/> mutations of the originals (a third each: random bytes over
    /// a random span, a truncation, 1–8 flipped bits), each bounded by <paramref name="perInput"/>; fails on any exception
    /// <paramref name="expected"/> rejects.
    /// </summary>
    public static FuzzOutcomes Run(IReadOnlyList<byte[]> originals, int seed, int count, TimeSpan perInput, Action<byte[]> load,
        Func<Exception, byte[], bool> expected)
    {
        var random = new Random(seed);
        int loaded = 0, refused = 0;
        var slowest = TimeSpan.Zero;
        for (int i = 0; i < count; i++)
        {
            byte[] original = originals[i % originals.Count];
            byte[] mutated = Mutate(original, i % 3, random);
            var clock = Stopwatch.StartNew();
            var attempt = Task.Run(() => load(mutated));
            try
            {
                attempt.Wait(perInput);
            }
            catch (AggregateException)
            {
                // Examined below.
            }

            Assert.That(attempt.IsCompleted, Is.True, $"input {i} (mutation {i % 3}) did not finish within {perInput.TotalSeconds} s");
            slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
            if (attempt.Exception?.InnerException is not { } error)
            {
                loaded++;
                continue;
            }

            Assert.That(expected(error, mutated), Is.True, $"input {i} (mutation {i % 3}) failed with {error.GetType().Name}: {error.Message}\n{error}");
            refused++;
        }

        return new FuzzOutcomes(count, loaded, refused, slowest);
    }

    /// <summary>
    /// The original with random bytes over a span (kind 0), cut short (kind 1), with 1–8 bits flipped (kind 2), or with a
    /// random span of it copied to a random place (kind 3: a duplicated header, part or chunk).
    /// </summary>
    public static byte[] Mutate(byte[] original, int kind, Random random)
    {
        byte[] bytes = (byte[])original.Clone();
        switch (kind)
        {
            case 3:
                int from = random.Next(original.Length), span = random.Next(1, Math.Max(2, (original.Length - from) / 2));
                int at = random.Next(original.Length + 1);
                return [.. original.AsSpan(0, at), .. original.AsSpan(from, Math.Min(span, original.Length - from)), .. original.AsSpan(at)];
            case 0:
                int start = random.Next(bytes.Length), length = Math.Min(bytes.Length - start, 1 + random.Next(64));
                random.NextBytes(bytes.AsSpan(start, length));
                return bytes;
            case 1:
                return bytes.AsSpan(0, random.Next(bytes.Length)).ToArray();
            default:
                for (int flips = 1 + random.Next(8); flips > 0; flips--)
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return bytes;
        }
    }

    /// <summary>Writes the outcomes to the test log and fails when no mutation was refused (the check would have proved nothing).</summary>
    public static void Report(string what, FuzzOutcomes outcomes)
    {
        TestContext.Out.WriteLine($"{what}: {outcomes.Tried} inputs, {outcomes.Loaded} loaded, {outcomes.Refused} refused with the documented exception, slowest {outcomes.Slowest.TotalMilliseconds:F0} ms");
        Assert.That(outcomes.Refused, Is.GreaterThan(0), $"{what}: no mutation was refused, so the check proved nothing");
    }
}
