using System.Text.Json;
using System.Text.Json.Serialization;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Export;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet.Training;

/// <summary>
/// The state of a run after a finished epoch, kept in a checkpoint directory so a killed run can resume.
/// Files are written to <c>checkpoint.tmp/</c> and swapped in by renaming, so the directory always
/// holds one complete checkpoint.
/// </summary>
internal sealed class TrainingCheckpoint
{
    public const int CurrentFormat = 1;
    private const string CurrentFolder = "checkpoint";
    private const string TemporaryFolder = "checkpoint.tmp";
    private const string PreviousFolder = "checkpoint.old";
    private const string StateFile = "state.json";
    public const string WeightsFile = "weights.bin";
    public const string OptimizerFile = "optimizer.bin";
    public const string BestWeightsFile = "best-weights.bin";

    public int Format { get; set; } = CurrentFormat;

    /// <summary>The last finished epoch.</summary>
    public int Epoch { get; set; }

    public string[] ClassNames { get; set; } = [];

    public double DropoutRate { get; set; }

    public int Seed { get; set; }

    public string Optimizer { get; set; } = "";

    public List<EpochMetrics> History { get; set; } = [];

    public double LearningRate { get; set; }

    public double? BestMonitored { get; set; }

    public int? BestEpoch { get; set; }

    public int EpochsWithoutImprovement { get; set; }

    public double? PlateauBest { get; set; }

    public int PlateauEpochsWithoutImprovement { get; set; }

    public bool StoppedEarly { get; set; }

    public bool HasBestWeights { get; set; }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Writes the state and lets <paramref name="writeTensors"/> save the weight files into the same folder, then swaps it in.</summary>
    public void Save(string directory, Action<string> writeTensors)
    {
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, TemporaryFolder);
        if (Directory.Exists(temporary))
            Directory.Delete(temporary, recursive: true);
        Directory.CreateDirectory(temporary);

        writeTensors(temporary);
        File.WriteAllText(Path.Combine(temporary, StateFile), JsonSerializer.Serialize(this, Json));

        string current = Path.Combine(directory, CurrentFolder);
        string previous = Path.Combine(directory, PreviousFolder);
        if (Directory.Exists(previous))
            Directory.Delete(previous, recursive: true);
        if (Directory.Exists(current))
            Directory.Move(current, previous);
        Directory.Move(temporary, current);
        if (Directory.Exists(previous))
            Directory.Delete(previous, recursive: true);
    }

    /// <summary>Loads the newest complete checkpoint in <paramref name="directory"/>, or returns null when there is none.</summary>
    /// <returns>The checkpoint and the folder that holds its weight files.</returns>
    public static (TrainingCheckpoint Checkpoint, string Folder)? TryLoad(string directory)
    {
        foreach (string folder in new[] { CurrentFolder, PreviousFolder })
        {
            string path = Path.Combine(directory, folder);
            string state = Path.Combine(path, StateFile);
            if (!File.Exists(state))
                continue;
            TrainingCheckpoint? checkpoint;
            try
            {
                checkpoint = JsonSerializer.Deserialize<TrainingCheckpoint>(File.ReadAllText(state), Json);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException(
                    $"The checkpoint state '{state}' is not valid JSON ({e.Message}). Delete the checkpoint directory '{directory}' to start training afresh.", e);
            }

            if (checkpoint is null || checkpoint.Format != CurrentFormat)
            {
                throw new InvalidDataException(
                    $"The checkpoint state '{state}' has format {checkpoint?.Format.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"}; this version reads format {CurrentFormat}. Delete the checkpoint directory '{directory}' to start afresh.");
            }

            if (!File.Exists(Path.Combine(path, WeightsFile)) || !File.Exists(Path.Combine(path, OptimizerFile)))
                throw new InvalidDataException($"The checkpoint '{path}' lacks its weight files. Delete the checkpoint directory '{directory}' to start afresh.");
            return (checkpoint, path);
        }

        return null;
    }
}
