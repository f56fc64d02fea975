namespace Ocr.MLNet.Training;

/// <summary>
/// Writes a <see cref="TrainingCheckpoint"/> of the state after every epoch, so a killed run resumes after its last
/// finished epoch (Keras' <c>BackupAndRestore</c>). Runs last, after every other callback has updated the state.
/// </summary>
/// <param name="directory">The checkpoint directory.</param>
/// <param name="options">The run's options: their dropout rate, seed and optimizer identify the run in the checkpoint.</param>
internal sealed class CheckpointSaver(string directory, CharacterCnnTrainer.Options options) : ITrainingCallback
{
    public void OnEpochEnd(TrainingState state, EpochMetrics metrics) => TrainingCheckpoint.Save(directory, state, options);
}
