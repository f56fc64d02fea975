using System.Text.Json;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Training;
using Ocr.MLNet.IO;

namespace Ocr.MLNet.Lines;

/// <summary>
/// The line trainer's checkpoint after each epoch: the network's and Adam's state and the run's place (epoch, step,
/// history), written into a fresh folder and swapped in as the character trainer's are. A run resumes only with the
/// options and row count it was started with.
/// </summary>
internal sealed class LineCheckpoint(string directory, LineRecognizerTrainer.Options options, int trainingRows)
{
    private const string StateFile = "line-state.json";

    private string RunKey => string.Join(";", options.Kind, options.Epochs, options.BatchSize, options.LearningRate, options.Seed,
        options.SyntheticFields, options.DropoutRate, trainingRows);

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
                        $"The checkpoint in '{directory}' is of another run ({saved.RunKey}; this run is {RunKey}). Delete the directory to start afresh, or use another --checkpoint-dir.");
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
