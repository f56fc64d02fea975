using System.Globalization;
using Spectre.Console;
using Ocr.MLNet.Preparation;

namespace Ocr.MLNet.Cli;

/// <summary>The data steps the CLI applies before training or evaluating: row limit, class merging, continental digits, balancing, offline augmentation.</summary>
internal sealed record DataPreparation(int? MaxRows, bool Merge, string? Balance, int AugmentCopies = 0)
{
    /// <summary>Checks the options before any data is loaded.</summary>
    /// <exception cref="ArgumentException">--balance or --augment-copies is invalid.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (Balance is { } balance && !IsBalanceTarget(balance))
            problems.Add($"--balance {balance}: use min, max, or a positive number of images per class");
        if (AugmentCopies < 0)
            problems.Add($"--augment-copies {AugmentCopies}: use 0 or more copies per image");
        if (MaxRows is < 1)
            problems.Add($"--max-rows {MaxRows}: must be at least 1");
        if (HoldoutPerClass < 0)
            problems.Add($"--holdout-per-class {HoldoutPerClass}: use a positive number of images per class");
        if (problems.Count > 0)
            throw new ArgumentException($"{string.Join("; ", problems)}. Correct these options and run the command again.");
    }

    private static bool IsBalanceTarget(string balance) =>
        balance.ToLowerInvariant() is "min" or "max" || (int.TryParse(balance, NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count > 0);

    /// <summary>For evaluate: score only the balanced held-out split of this many images per class (0: all rows).</summary>
    public int HoldoutPerClass { get; init; }

    /// <summary>For train: add continental copies of the ones and sevens (<c>AddContinentalDigits</c>).</summary>
    public bool ContinentalDigits { get; init; }

    /// <summary>The seed of that split.</summary>
    public int Seed { get; init; } = 1;

    /// <summary><see cref="MergeClasses"/>, the held-out split when asked for, then <see cref="Resample"/>.</summary>
    public IDataView Apply(MLContext mlContext, IDataView data, int seed)
    {
        data = MergeClasses(mlContext, data);
        if (HoldoutPerClass > 0)
            data = mlContext.Data.BalancedTrainTestSplit(data, HoldoutPerClass, Seed).TestSet;
        return Resample(mlContext, data, seed);
    }

    /// <summary>Merges the look-alike classes when --merge is given.</summary>
    public IDataView MergeClasses(MLContext mlContext, IDataView data)
    {
        if (!Merge)
            return data;
        AnsiConsole.WriteLine("Merged EMNIST's look-alike classes (62 → 47).");
        return mlContext.Transforms.MergeSimilarClasses().Fit(data).Transform(data);
    }

    /// <summary>
    /// Adds continental digits (--continental-digits), balances (--balance) and adds offline augmented copies
    /// (--augment-copies): steps that add or repeat rows, so a held-out test part must be split off before them.
    /// </summary>
    public IDataView Resample(MLContext mlContext, IDataView data, int seed)
    {
        if (ContinentalDigits)
        {
            data = mlContext.Data.AddContinentalDigits(data, new ContinentalDigitOptions { Seed = seed });
            AnsiConsole.WriteLine("Added a continental copy of every 1 (flagged) and 7 (crossed).");
        }

        if (Balance is { } balance)
        {
            var options = balance.ToLowerInvariant() switch
            {
                "min" => new BalanceClassesOptions { Target = BalanceTarget.Minimum, Seed = seed },
                "max" => new BalanceClassesOptions { Target = BalanceTarget.Maximum, Seed = seed },
                _ when int.TryParse(balance, NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count > 0
                    => new BalanceClassesOptions { Target = BalanceTarget.Count, Count = count, Seed = seed },
                _ => throw new ArgumentException($"--balance {balance}: use min, max, or a positive number of images per class."),
            };
            var balanced = mlContext.Data.BalanceClasses(data, options);
            AnsiConsole.WriteLine(balanced.ToString());
            data = balanced.Data;
        }

        if (AugmentCopies < 0)
            throw new ArgumentException($"--augment-copies {AugmentCopies}: use 0 or more copies per image.");
        if (AugmentCopies > 0)
        {
            data = mlContext.Data.AugmentImages(data, AugmentCopies, new Preparation.ImageAugmentationOptions { Seed = seed });
            AnsiConsole.WriteLine($"Added {AugmentCopies} augmented copies of every image.");
        }

        return data;
    }
}
