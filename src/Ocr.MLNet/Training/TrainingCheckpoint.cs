using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ocr.MLNet.Loading;
using TorchSharp;
using static TorchSharp.torch;
using Ocr.MLNet.IO;

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
    internal const string CurrentFolder = "checkpoint";
    private const string TemporaryFolder = "checkpoint.tmp";
    internal const string PreviousFolder = "checkpoint.old";
    private const string StateFile = "state.json";
    public const string WeightsFile = "weights.bin";
    public const string OptimizerFile = "optimizer.bin";
    public const string BestWeightsFile = "best-weights.bin";
    public const string AveragedWeightsFile = "averaged-weights.bin";

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

    /// <summary>
    /// The run's fingerprint (<see cref="RunFingerprint"/>): the options that shape it and its data. Null in checkpoints
    /// written before it existed; those are checked on classes, dropout rate, optimizer and seed only, as before.
    /// </summary>
    public SortedDictionary<string, string>? Run { get; set; }

    /// <summary>SHA-256 (lower-case hex) of each weight file, by file name; null in checkpoints written before it existed.</summary>
    public SortedDictionary<string, string>? Files { get; set; }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>A checkpoint that names the run of <paramref name="classNames"/>, <paramref name="options"/> and <paramref name="data"/>, at epoch 0.</summary>
    /// <param name="classNames">The classes, in the network's output order.</param>
    /// <param name="options">The run's options.</param>
    /// <param name="data">The data's fingerprint (<see cref="RunFingerprint.OfData"/>), or null when unknown.</param>
    public static TrainingCheckpoint ForRun(IReadOnlyList<string> classNames, CharacterCnnTrainer.Options options,
        IReadOnlyDictionary<string, string>? data = null) => new()
    {
        ClassNames = classNames.ToArray(),
        DropoutRate = options.DropoutRate,
        Seed = options.Seed,
        Optimizer = options.Optimizer.ToString(),
        LearningRate = options.LearningRate,
        Run = RunFingerprint.Of(options, data),
    };

    /// <summary>The checkpoint of <paramref name="state"/> (weights excluded: <see cref="Save(string, TrainingState, CharacterCnnTrainer.Options)"/> writes them).</summary>
    public static TrainingCheckpoint FromState(TrainingState state, CharacterCnnTrainer.Options options)
    {
        var checkpoint = ForRun(state.ClassNames, options, state.DataFingerprint);
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
            state.Averaging?.Averaged.save(Path.Combine(folder, AveragedWeightsFile));
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
    /// <exception cref="InvalidDataException">A weight file cannot be read (the message names it).</exception>
    public void RestoreInto(TrainingState state, string folder, Device device, double batchNormMomentum)
    {
        ReadFile(folder, WeightsFile, path => state.Network.load(path));
        state.Network.to(device);
        ReadFile(folder, OptimizerFile, path => state.Optimizer.load_state_dict(path));
        if (state.Averaging is { } averaging)
        {
            ReadFile(folder, AveragedWeightsFile, path => averaging.Averaged.load(path));
            averaging.Averaged.to(device);
        }

        if (HasBestWeights)
        {
            using var best = new CharacterCnnNetwork(state.ClassNames.Length, DropoutRate, batchNormMomentum);
            ReadFile(folder, BestWeightsFile, path => best.load(path));
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

    /// <summary>
    /// Throws when this checkpoint belongs to another run than <paramref name="wanted"/> (<see cref="ForRun"/>), or when
    /// <paramref name="epochs"/> is below its epoch. The message lists every difference as
    /// <c>Name: checkpoint value, now value</c>.
    /// </summary>
    /// <param name="wanted">The run about to train.</param>
    /// <param name="directory">The checkpoint directory, for the message.</param>
    /// <param name="epochs">The run's <see cref="CharacterCnnTrainer.Options.Epochs"/>, or null not to check it.</param>
    /// <exception cref="InvalidOperationException">The classes, an entry of the fingerprint, or (for a checkpoint without
    /// a fingerprint) the dropout rate, optimizer or seed differ, or the checkpoint is past <paramref name="epochs"/>.</exception>
    public void EnsureSameRun(TrainingCheckpoint wanted, string directory, int? epochs = null)
    {
        var problems = new List<string>();
        void Differ(string name, string found, string now)
        {
            if (!string.Equals(found, now, StringComparison.Ordinal))
                problems.Add($"{name}: checkpoint {found}, now {now}");
        }

        Differ(nameof(ClassNames), $"[{string.Join(" ", ClassNames)}]", $"[{string.Join(" ", wanted.ClassNames)}]");
        if (Run is null || wanted.Run is null)
        {
            // A checkpoint from before fingerprints: only what it records can be compared.
            Differ(nameof(DropoutRate), DropoutRate.ToString(CultureInfo.InvariantCulture), wanted.DropoutRate.ToString(CultureInfo.InvariantCulture));
            Differ(nameof(Optimizer), Optimizer, wanted.Optimizer);
            Differ(nameof(Seed), Seed.ToString(CultureInfo.InvariantCulture), wanted.Seed.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            foreach (string name in Run.Keys.Union(wanted.Run.Keys).Order(StringComparer.Ordinal))
                Differ(name, Run.GetValueOrDefault(name, "(none)"), wanted.Run.GetValueOrDefault(name, "(none)"));
        }

        if (epochs is int wantedEpochs && wantedEpochs < Epoch)
            problems.Add($"Epochs: checkpoint at epoch {Epoch.ToString(CultureInfo.InvariantCulture)}, now Epochs = {wantedEpochs.ToString(CultureInfo.InvariantCulture)} (set Epochs to {Epoch.ToString(CultureInfo.InvariantCulture)} or more to continue it)");
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(
                $"The checkpoint in '{directory}' belongs to a different run: {string.Join("; ", problems)}. Use another CheckpointDirectory, or delete this one to start afresh.");
        }
    }

    /// <summary>Runs <paramref name="read"/> on a weight file, turning a damaged file's error into one that names it and says what to do.</summary>
    private static void ReadFile(string folder, string name, Action<string> read)
    {
        string path = Path.Combine(folder, name);
        try
        {
            read(path);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException(
                $"The checkpoint file '{path}' cannot be read ({e.Message}). Delete the checkpoint directory '{Path.GetDirectoryName(folder)}' to start training afresh.", e);
        }
    }

    /// <summary>Throws when a weight file is missing or its SHA-256 differs from the one <paramref name="state"/> recorded.</summary>
    private void VerifyFiles(string folder, string state, string directory)
    {
        if (Files is null)
            return; // written before hashes existed
        var names = new List<string> { WeightsFile, OptimizerFile };
        if (HasBestWeights)
            names.Add(BestWeightsFile);
        if (Files.ContainsKey(AveragedWeightsFile))
            names.Add(AveragedWeightsFile);
        foreach (string name in names)
        {
            string path = Path.Combine(folder, name);
            if (!Files.TryGetValue(name, out string? recorded))
                throw new InvalidDataException($"The checkpoint state '{state}' records no SHA-256 for '{path}'. Delete the checkpoint directory '{directory}' to start afresh.");
            if (!File.Exists(path))
                throw new InvalidDataException($"The checkpoint file '{path}' is missing. Delete the checkpoint directory '{directory}' to start afresh.");
            if (!string.Equals(Sha256Of(path), recorded, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidDataException(
                    $"The checkpoint file '{path}' does not match the SHA-256 recorded in '{state}': it was changed or damaged (truncated?) after it was written. "
                    + $"Delete the checkpoint directory '{directory}' to start afresh, or put back an intact copy of the file.");
            }
        }
    }

    private static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Writes the state and lets <paramref name="writeTensors"/> save the weight files into the same folder, then swaps it in.</summary>
    private void Write(string directory, Action<string> writeTensors) => WriteFolder(directory, temporary =>
    {
        writeTensors(temporary);
        Files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string name in new[] { WeightsFile, OptimizerFile, BestWeightsFile, AveragedWeightsFile })
        {
            string path = Path.Combine(temporary, name);
            if (File.Exists(path))
                Files[name] = Sha256Of(path);
        }

        File.WriteAllText(Path.Combine(temporary, StateFile), JsonSerializer.Serialize(this, Json));
    });

    /// <summary>
    /// Lets <paramref name="writeFiles"/> fill a fresh temporary folder in <paramref name="directory"/>, then swaps it in as the
    /// current checkpoint: a kill at any moment leaves a complete current or previous checkpoint (the line trainer's too).
    /// </summary>
    internal static void WriteFolder(string directory, Action<string> writeFiles)
    {
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, TemporaryFolder);
        if (Directory.Exists(temporary))
            Directory.Delete(temporary, recursive: true);
        Directory.CreateDirectory(temporary);
        writeFiles(temporary);

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

    /// <summary>
    /// Loads the newest complete checkpoint in <paramref name="directory"/>, or returns null when there is none; the
    /// weight files' SHA-256 are checked against the recorded ones.
    /// </summary>
    /// <exception cref="InvalidDataException">The state is unreadable, or a weight file is missing or damaged (the message names it).</exception>
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
                checkpoint = JsonSerializer.Deserialize<TrainingCheckpoint>(BoundedFile.ReadAllText(state), Json);
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
            checkpoint.VerifyFiles(path, state, directory);
            return (checkpoint, path);
        }

        return null;
    }
}
