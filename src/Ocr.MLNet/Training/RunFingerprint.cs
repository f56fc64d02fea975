using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Loading;

namespace Ocr.MLNet.Training;

/// <summary>
/// What makes two runs the same run, as name → invariant text, so a checkpoint resumes only the run that wrote it:
/// every option that shapes the weights or the split (not <see cref="CharacterCnnTrainer.Options.Epochs"/>, which may
/// grow, nor paths, progress, cancellation, device or threads) and the data (row counts and hashes).
/// </summary>
internal static class RunFingerprint
{
    /// <summary>Rows whose pixels the data hash reads, spread evenly: enough to tell data sets apart without reading every pixel.</summary>
    private const int PixelSampleRows = 1024;

    /// <summary>The options' entries plus <paramref name="data"/> (from <see cref="OfData"/>), when given.</summary>
    public static SortedDictionary<string, string> Of(CharacterCnnTrainer.Options options, IReadOnlyDictionary<string, string>? data)
    {
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        void Add(string name, object? value) => entries[name] = OptionsValidation.Format(value).Trim('\'');

        Add(nameof(options.BatchSize), options.BatchSize);
        Add(nameof(options.LearningRate), options.LearningRate);
        Add(nameof(options.LearningRateSchedule), options.LearningRateSchedule);
        Add(nameof(options.LearningRateDecay), options.LearningRateDecay);
        Add(nameof(options.LearningRateStepEpochs), options.LearningRateStepEpochs);
        Add(nameof(options.LearningRatePlateauPatience), options.LearningRatePlateauPatience);
        Add(nameof(options.LearningRateMonitor), options.LearningRateMonitor);
        Add(nameof(options.MinimumLearningRate), options.MinimumLearningRate);
        Add(nameof(options.Optimizer), options.Optimizer);
        Add(nameof(options.Momentum), options.Momentum);
        Add(nameof(options.WeightDecay), options.WeightDecay);
        Add(nameof(options.DropoutRate), options.DropoutRate);
        Add(nameof(options.BatchNormMomentum), options.BatchNormMomentum);
        Add(nameof(options.RecalibrateBatchNorm), options.RecalibrateBatchNorm);
        Add(nameof(options.BatchNormCalibrationImages), options.BatchNormCalibrationImages);
        Add(nameof(options.ValidationFraction), options.ValidationFraction);
        Add(nameof(options.EarlyStoppingPatience), options.EarlyStoppingPatience);
        Add(nameof(options.EarlyStoppingMonitor), options.EarlyStoppingMonitor);
        Add(nameof(options.EarlyStoppingMinDelta), options.EarlyStoppingMinDelta);
        Add(nameof(options.RestoreBestWeights), options.RestoreBestWeights);
        Add(nameof(options.Seed), options.Seed);
        Add(nameof(options.LearningRateWarmupEpochs), options.LearningRateWarmupEpochs);
        Add(nameof(options.LabelSmoothing), options.LabelSmoothing);
        Add(nameof(options.ClassBalancedSampling), options.ClassBalancedSampling);
        Add(nameof(options.ImagesPerClassPerEpoch), options.ImagesPerClassPerEpoch);
        Add(nameof(options.UseExponentialMovingAverage), options.UseExponentialMovingAverage);
        Add(nameof(options.ExponentialMovingAverageDecay), options.ExponentialMovingAverageDecay);
        Add(nameof(options.Augmentation), options.Augmentation is null ? "off" : "on");
        if (options.Augmentation is { } augmentation)
        {
            // Every setting (not derived properties) but Seed, which online augmentation does not use (the run's per-epoch seed drives it).
            foreach (var property in typeof(ImageAugmentationOptions).GetProperties().Where(p => p.CanRead && p.CanWrite && p.Name != nameof(ImageAugmentationOptions.Seed)))
                Add($"{nameof(options.Augmentation)}.{property.Name}", property.GetValue(augmentation));
        }

        if (data is not null)
        {
            foreach (var (name, value) in data)
                entries[name] = value;
        }

        return entries;
    }

    /// <summary>Row counts, a hash of all labels and a hash of a sample of pixels of the training and validation data.</summary>
    public static SortedDictionary<string, string> OfData(LabeledImages train, LabeledImages? validation)
    {
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        Describe("TrainingData", train);
        if (validation is null)
            entries["ValidationData.Rows"] = "0";
        else
            Describe("ValidationData", validation);
        return entries;

        // 64 bits tell data sets apart and keep the difference message readable.
        static string Short(byte[] hash) => Convert.ToHexStringLower(hash, 0, 8);

        void Describe(string role, LabeledImages images)
        {
            entries[$"{role}.Rows"] = images.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            entries[$"{role}.LabelsSha256"] = Short(SHA256.HashData(MemoryMarshal.AsBytes(images.Labels.AsSpan())));
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            int rows = Math.Min(images.Count, PixelSampleRows);
            for (int i = 0; i < rows; i++)
            {
                long row = (long)i * images.Count / rows;
                hash.AppendData(MemoryMarshal.AsBytes(images.Pixels.AsSpan((int)(row * LabeledImages.PixelsPerImage), LabeledImages.PixelsPerImage)));
            }

            entries[$"{role}.PixelSampleSha256"] = Short(hash.GetHashAndReset());
        }
    }
}
