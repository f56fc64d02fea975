using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace Ocr.MLNet.Training;

/// <summary>
/// The on-disk format of a run after a finished epoch, kept in a checkpoint directory so a killed run can resume:
/// <c>state.json</c> (this object) beside the network, optimizer and best-weights files. It is made from a live
/// <see cref="TrainingState"/> by <see cref="FromState"/> and read back into one by <see cref="RestoreInto"/>.
/// Files are written to <c>checkpoint.tmp/</c> and swapped in by renaming, so the directory always
/// holds one complete checkpoint.
/// </summary>
/// <remarks>The property names and order are the JSON format: existing checkpoints must keep resuming.</remarks>
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

    /// <summary>A checkpoint that names the run of <paramref name="classNames"/> and <paramref name="options"/>, at epoch 0.</summary>
    public static TrainingCheckpoint ForRun(IReadOnlyList<string> classNames, CharacterCnnTrainer.Options options) => new()
    {
        ClassNames = classNames.ToArray(),
        DropoutRate = options.DropoutRate,
        Seed = options.Seed,
        Optimizer = options.Optimizer.ToString(),
        LearningRate = options.LearningRate,
    };

    /// <summary>The checkpoint of <paramref name="state"/> (weights excluded: <see cref="Save(string, TrainingState, CharacterCnnTrainer.Options)"/> writes them).</summary>
    public static TrainingCheckpoint FromState(TrainingState state, CharacterCnnTrainer.Options options)
    {
        var checkpoint = ForRun(state.ClassNames, options);
        checkpoint.Epoch = state.Epoch;
        checkpoint.History = [.. state.History];
        checkpoint.LearningRate = state.LearningRate;
        checkpoint.BestMonitored = state.EarlyStopping.Best;
        checkpoint.BestEpoch = state.EarlyStopping.BestEpoch;
        checkpoint.EpochsWithoutImprovement = state.EarlyStopping.EpochsWithoutImprovement;
        checkpoint.PlateauBest = state.Plateau.Best;
        checkpoint.PlateauEpochsWithoutImprovement = state.Plateau.EpochsWithoutImprovement;
        checkpoint.StoppedEarly = state.StopTraining;
        checkpoint.HasBestWeights = state.BestWeights is not null;
        return checkpoint;
    }

    /// <summary>Writes the checkpoint of <paramref name="state"/>, weights included, into <paramref name="directory"/>.</summary>
    public static void Save(string directory, TrainingState state, CharacterCnnTrainer.Options options)
    {
        var checkpoint = FromState(state, options);
        checkpoint.Write(directory, folder =>
        {
            state.Network.save(Path.Combine(folder, WeightsFile));
            state.Optimizer.save_state_dict(Path.Combine(folder, OptimizerFile));
            if (state.BestWeights is { } bestWeights)
            {
                using var best = new CharacterCnnNetwork(checkpoint.ClassNames.Length, checkpoint.DropoutRate);
                best.load_state_dict(bestWeights.ToDictionary(p => p.Key, p => p.Value.cpu()));
                best.save(Path.Combine(folder, BestWeightsFile));
            }
        });
    }

    /// <summary>
    /// Loads this checkpoint's weights from <paramref name="folder"/> into the state's network (then moved to
    /// <paramref name="device"/>) and optimizer, and its counters and history into <paramref name="state"/>.
    /// </summary>
    /// <param name="state">A fresh state of the same run (see <see cref="EnsureSameRun"/>).</param>
    /// <param name="folder">The folder <see cref="TryLoad"/> found the checkpoint in.</param>
    /// <param name="device">The training device.</param>
    /// <param name="batchNormMomentum">The options' BatchNorm momentum, for the network that reads the best weights.</param>
    public void RestoreInto(TrainingState state, string folder, Device device, double batchNormMomentum)
    {
        state.Network.load(Path.Combine(folder, WeightsFile));
        state.Network.to(device);
        state.Optimizer.load_state_dict(Path.Combine(folder, OptimizerFile));
        if (HasBestWeights)
        {
            using var best = new CharacterCnnNetwork(state.ClassNames.Length, DropoutRate, batchNormMomentum);
            best.load(Path.Combine(folder, BestWeightsFile));
            state.KeepBestWeights(best);
        }

        state.Epoch = Epoch;
        // The file has no step count: count every finished epoch as this run's batches, right when data and batch size are unchanged.
        state.Step = (long)Epoch * state.BatchesPerEpoch;
        state.History.Clear();
        state.History.AddRange(History);
        state.LearningRate = LearningRate;
        state.EarlyStopping.Best = BestMonitored;
        state.EarlyStopping.BestEpoch = BestEpoch;
        state.EarlyStopping.EpochsWithoutImprovement = EpochsWithoutImprovement;
        state.Plateau.Best = PlateauBest;
        state.Plateau.EpochsWithoutImprovement = PlateauEpochsWithoutImprovement;
        state.StopTraining = StoppedEarly;
        state.StopReason = null;
        state.ResumedAfterEpoch = Epoch;
    }

    /// <summary>Throws when this checkpoint belongs to another run than <paramref name="wanted"/> (<see cref="ForRun"/>).</summary>
    /// <exception cref="InvalidOperationException">Classes, dropout rate, optimizer or seed differ.</exception>
    public void EnsureSameRun(TrainingCheckpoint wanted, string directory)
    {
        var problems = new List<string>();
        if (!ClassNames.SequenceEqual(wanted.ClassNames, StringComparer.Ordinal))
            problems.Add($"its classes are [{string.Join(" ", ClassNames)}], this data's are [{string.Join(" ", wanted.ClassNames)}]");
        if (DropoutRate != wanted.DropoutRate)
            problems.Add($"its dropout rate is {DropoutRate.ToString(CultureInfo.InvariantCulture)}, the options say {wanted.DropoutRate.ToString(CultureInfo.InvariantCulture)}");
        if (Optimizer != wanted.Optimizer)
            problems.Add($"its optimizer is {Optimizer}, the options say {wanted.Optimizer}");
        if (Seed != wanted.Seed)
            problems.Add($"its seed is {Seed}, the options say {wanted.Seed}");
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(
                $"The checkpoint in '{directory}' belongs to a different run: {string.Join("; ", problems)}. Use another CheckpointDirectory, or delete this one to start afresh.");
        }
    }

    /// <summary>Writes the state and lets <paramref name="writeTensors"/> save the weight files into the same folder, then swaps it in.</summary>
    private void Write(string directory, Action<string> writeTensors)
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
                    $"The checkpoint state '{state}' has format {checkpoint?.Format.ToString(CultureInfo.InvariantCulture) ?? "null"}; this version reads format {CurrentFormat}. Delete the checkpoint directory '{directory}' to start afresh.");
            }

            if (!File.Exists(Path.Combine(path, WeightsFile)) || !File.Exists(Path.Combine(path, OptimizerFile)))
                throw new InvalidDataException($"The checkpoint '{path}' lacks its weight files. Delete the checkpoint directory '{directory}' to start afresh.");
            return (checkpoint, path);
        }

        return null;
    }
}
