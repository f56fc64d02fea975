using System.Globalization;
using System.Text.Json;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Training;
using Ocr.MLNet.IO;

namespace Ocr.MLNet.Lines;

/// <summary>
/// The line trainer's checkpoint after each epoch: the network's and Adam's state and the run's place (epoch, step,
/// history), written into a fresh folder and swapped in as the character trainer's are. A run resumes only with the
/// options that shape its weights and the row count it was started with; another run's checkpoint is refused with every
/// difference named.
/// </summary>
internal sealed class LineCheckpoint(string directory, LineRecognizerTrainer.Options options, int trainingRows)
{
    private const string StateFile = "line-state.json";

    /// <summary>What makes two runs the same run, as <c>Name=value</c> pairs joined by <c>;</c>.</summary>
    private string RunKey => string.Join(";", new (string Name, object Value)[]
    {
        (nameof(options.Kind), options.Kind),
        (nameof(options.Epochs), options.Epochs),
        (nameof(options.BatchSize), options.BatchSize),
        (nameof(options.LearningRate), options.LearningRate),
        (nameof(options.Seed), options.Seed),
        (nameof(options.SyntheticFields), options.SyntheticFields),
        (nameof(options.DropoutRate), options.DropoutRate),
        (nameof(options.ValidationFraction), options.ValidationFraction),
        (nameof(options.Precision), options.Precision),
        (nameof(options.Input), options.Input),
        (nameof(options.Augment), options.Augment),
        (nameof(options.EarlyStoppingPatience), options.EarlyStoppingPatience?.ToString(CultureInfo.InvariantCulture) ?? "none"),
        (nameof(options.EarlyStoppingMonitor), options.EarlyStoppingMonitor),
        (nameof(options.BaseModel), options.BaseModel is null ? "none" : "given"),
        (nameof(options.FreezeBatchNormStatistics), options.FreezesBatchNormStatistics),
        ("TrainingRows", trainingRows),
    }.Select(e => $"{e.Name}={Convert.ToString(e.Value, CultureInfo.InvariantCulture)}"));

    /// <summary>Each entry of <paramref name="saved"/> that differs from this run's, as <c>Name: checkpoint a, now b</c>.</summary>
    private string Differences(string saved)
    {
        static Dictionary<string, string> Entries(string key) => key.Split(';').Select(e => e.Split('=', 2))
            .Where(pair => pair.Length == 2).ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
        var found = Entries(saved);
        var now = Entries(RunKey);
        if (found.Count == 0)
            return $"a checkpoint of an earlier version ({saved})";
        return string.Join("; ", now.Keys.Union(found.Keys).Order(StringComparer.Ordinal)
            .Where(name => found.GetValueOrDefault(name) != now.GetValueOrDefault(name))
            .Select(name => $"{name}: checkpoint {found.GetValueOrDefault(name, "(none)")}, now {now.GetValueOrDefault(name, "(none)")}"));
    }

    public void Save(TrainingState state) => TrainingCheckpoint.WriteFolder(directory, folder =>
    {
        state.Network.save(Path.Combine(folder, TrainingCheckpoint.WeightsFile));
        state.Optimizer.save_state_dict(Path.Combine(folder, TrainingCheckpoint.OptimizerFile));
        var saved = new SavedState(RunKey, state.Epoch, state.Step, state.History.ToArray());
        File.WriteAllText(Path.Combine(folder, StateFile), JsonSerializer.Serialize(saved));
    });

    /// <summary>Restores the newest checkpoint of this run into <paramref name="state"/>; false when there is none.</summary>
    /// <exception cref="InvalidDataException">The checkpoint is of another run or damaged; the message says to delete the directory.</exception>
    public bool TryRestore(TrainingState state)
    {
        foreach (string name in new[] { TrainingCheckpoint.CurrentFolder, TrainingCheckpoint.PreviousFolder })
        {
            string folder = Path.Combine(directory, name);
            string path = Path.Combine(folder, StateFile);
            if (!File.Exists(path))
                continue;
            try
            {
                var saved = JsonSerializer.Deserialize<SavedState>(BoundedFile.ReadAllText(path))
                    ?? throw new InvalidDataException($"The line checkpoint state '{path}' is empty.");
                if (saved.RunKey != RunKey)
                {
                    throw new InvalidDataException(
                        $"The checkpoint in '{directory}' is of another run: {Differences(saved.RunKey)}. Delete the directory to start afresh, or use another --checkpoint-dir.");
                }

                state.Network.load(Path.Combine(folder, TrainingCheckpoint.WeightsFile));
                state.Optimizer.load_state_dict(Path.Combine(folder, TrainingCheckpoint.OptimizerFile));
                state.Epoch = saved.Epoch;
                state.Step = saved.Step;
                state.ResumedAfterEpoch = saved.Epoch;
                state.History.AddRange(saved.History);
                return true;
            }
            catch (Exception e) when (e is JsonException or IOException or ArgumentException)
            {
                throw new InvalidDataException($"The line checkpoint in '{folder}' cannot be read ({e.Message}). Delete '{directory}' to start afresh.", e);
            }
        }

        return false;
    }

    private sealed record SavedState(string RunKey, int Epoch, long Step, EpochMetrics[] History);
}
