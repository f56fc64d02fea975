using static TorchSharp.torch;

namespace Ocr.MLNet.Training;

/// <summary>
/// After each epoch's training batches, replaces BatchNorm's moving statistics by exact averages over up to
/// <c>calibrationImages</c> training inputs, every k-th one so all classes are in
/// (<see cref="CharacterCnnTrainer.Options.RecalibrateBatchNorm"/>; the line trainer's statistics when not frozen).
/// </summary>
/// <param name="images">The training inputs on the device, as the network's batches hold them; not owned.</param>
/// <param name="calibrationImages">At most this many images are averaged over.</param>
/// <param name="batchSize">The training batch size.</param>
internal sealed class BatchNormRecalibration(Tensor images, int calibrationImages, int batchSize) : ITrainingCallback
{
    public void OnTrainingBatchesEnd(TrainingState state, int epoch)
    {
        using var scope = NewDisposeScope();
        long count = images.shape[0];
        long step = Math.Max(1, (count + calibrationImages - 1) / calibrationImages);
        var sample = step == 1 ? images : images.index_select(0, arange(0, count, step, dtype: ScalarType.Int64, device: images.device));
        ((IRecalibratesBatchNorm)state.ModelNetwork).RecalibrateBatchNorm(sample, Math.Max(batchSize, 2));
    }
}
