using System.Text.Json;
using System.Text.Json.Serialization;
using Ocr.MLNet.Loading;
using Ocr.MLNet.IO;

namespace Ocr.MLNet.Training;

/// <summary>The optimizer that updates the network's weights.</summary>
public enum OptimizerKind
{
    /// <summary>Adam (Kingma &amp; Ba), the choice of Keras and of the published design.</summary>
    Adam,

    /// <summary>Stochastic gradient descent with (Nesterov-free) momentum.</summary>
    Sgd,

    /// <summary>AdamW (Loshchilov &amp; Hutter): Adam with weight decay applied to the weights directly, not through the gradient.</summary>
    AdamW,
}

/// <summary>The number type the network computes in while it trains.</summary>
public enum TrainingPrecision
{
    /// <summary>
    /// <see cref="BFloat16"/> where the hardware computes it natively (an x64 CPU with AVX512_BF16 or AMX-BF16, a CUDA GPU
    /// of compute capability 8.0 or later), else <see cref="Float32"/>.
    /// </summary>
    Auto,

    /// <summary>Everything in float32.</summary>
    Float32,

    /// <summary>
    /// Mixed precision: convolutions and the dense layer in bfloat16; float32 master weights, optimizer state, BatchNorm
    /// statistics, softmax and loss. Checkpoints and the exported ONNX model stay float32.
    /// </summary>
    BFloat16,
}

/// <summary>
/// How the learning rate changes from epoch to epoch (and, for <see cref="CosineAnnealing"/>, batch to batch). Every schedule
/// starts with <see cref="CharacterCnnTrainer.Options.LearningRateWarmupEpochs"/> of linear warm-up.
/// </summary>
public enum LearningRateSchedule
{
    /// <summary>The same rate every epoch.</summary>
    Constant,

    /// <summary>Multiply by <see cref="CharacterCnnTrainer.Options.LearningRateDecay"/> every <see cref="CharacterCnnTrainer.Options.LearningRateStepEpochs"/> epochs.</summary>
    StepDecay,

    /// <summary>Multiply by <see cref="CharacterCnnTrainer.Options.LearningRateDecay"/> every epoch.</summary>
    ExponentialDecay,

    /// <summary>
    /// Cosine annealing, batch by batch, from the initial rate to <see cref="CharacterCnnTrainer.Options.MinimumLearningRate"/>
    /// at the end of the last batch (every batch, the last epoch's included, trains at a rate above the minimum).
    /// </summary>
    CosineAnnealing,

    /// <summary>Keras' ReduceLROnPlateau: multiply by <see cref="CharacterCnnTrainer.Options.LearningRateDecay"/> when the monitored metric has not improved for <see cref="CharacterCnnTrainer.Options.LearningRatePlateauPatience"/> epochs.</summary>
    ReduceOnPlateau,
}

/// <summary>A per-epoch metric that early stopping or the plateau schedule watches.</summary>
public enum TrainingMetric
{
    /// <summary>Mean cross-entropy on the validation data (lower is better).</summary>
    ValidationLoss,

    /// <summary>Sparse categorical accuracy on the validation data (higher is better).</summary>
    ValidationAccuracy,

    /// <summary>Mean cross-entropy on the training batches of the epoch (lower is better).</summary>
    TrainingLoss,

    /// <summary>Sparse categorical accuracy on the training batches of the epoch (higher is better).</summary>
    TrainingAccuracy,
}

/// <summary>Where the network trains.</summary>
public enum TrainingDevice
{
    /// <summary>CUDA when TorchSharp finds a GPU, else the CPU.</summary>
    Auto,

    /// <summary>The CPU.</summary>
    Cpu,

    /// <summary>The first CUDA GPU; an error when none is available.</summary>
    Cuda,
}

/// <summary>Metrics of one finished epoch, as Keras' <c>History</c> records them.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="TrainingLoss">Mean cross-entropy over the epoch's training batches (dropout active, as Keras reports it).</param>
/// <param name="TrainingAccuracy">Sparse categorical accuracy over the epoch's training batches.</param>
/// <param name="ValidationLoss">Mean cross-entropy on the validation data, or null without validation data.</param>
/// <param name="ValidationAccuracy">Sparse categorical accuracy on the validation data, or null without validation data.</param>
/// <param name="LearningRate">The learning rate of the epoch's last batch (the schedules change it batch by batch).</param>
/// <param name="Duration">Wall time of the epoch, validation included.</param>
/// <param name="TrainingImagesPerSecond">Training images processed per second (validation excluded).</param>
public sealed record EpochMetrics(
    int Epoch,
    double TrainingLoss,
    double TrainingAccuracy,
    double? ValidationLoss,
    double? ValidationAccuracy,
    double LearningRate,
    TimeSpan Duration,
    double TrainingImagesPerSecond)
{
    /// <summary>The value of <paramref name="metric"/>, or null when this epoch has none (no validation data).</summary>
    public double? Get(TrainingMetric metric) => metric switch
    {
        TrainingMetric.ValidationLoss => ValidationLoss,
        TrainingMetric.ValidationAccuracy => ValidationAccuracy,
        TrainingMetric.TrainingLoss => TrainingLoss,
        TrainingMetric.TrainingAccuracy => TrainingAccuracy,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, null),
    };

    /// <summary>One line as Keras prints an epoch: <c>Epoch 3: loss 0.3648, accuracy 0.8708, val_loss …, lr 0.001, 329.0 s, 301 images/s</c>.</summary>
    public override string ToString()
    {
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        string text = string.Create(culture, $"Epoch {Epoch}: loss {TrainingLoss:F4}, accuracy {TrainingAccuracy:F4}");
        if (ValidationLoss is double loss && ValidationAccuracy is double accuracy)
            text += string.Create(culture, $", val_loss {loss:F4}, val_accuracy {accuracy:F4}");
        return text + string.Create(culture, $", lr {LearningRate:G3}, {Duration.TotalSeconds:F1} s, {TrainingImagesPerSecond:F0} images/s");
    }
}

/// <summary>What happened during <see cref="CharacterCnnTrainer.Fit"/>: one row per epoch, like Keras' <c>History</c>.</summary>
public sealed class TrainingHistory
{
    /// <summary>Creates a history.</summary>
    public TrainingHistory(IReadOnlyList<EpochMetrics> epochs, int? bestEpoch, bool stoppedEarly, int resumedAfterEpoch)
    {
        Epochs = epochs;
        BestEpoch = bestEpoch;
        StoppedEarly = stoppedEarly;
        ResumedAfterEpoch = resumedAfterEpoch;
    }

    /// <summary>Metrics of each finished epoch, in order (epochs of a resumed run included).</summary>
    public IReadOnlyList<EpochMetrics> Epochs { get; }

    /// <summary>The epoch whose weights the model holds when best weights were restored; otherwise null.</summary>
    public int? BestEpoch { get; }

    /// <summary>True when early stopping ended training before the last epoch.</summary>
    public bool StoppedEarly { get; }

    /// <summary>The epoch of the checkpoint this run resumed from, or 0 when it started fresh.</summary>
    public int ResumedAfterEpoch { get; }

    /// <summary>The extension <see cref="PathBeside"/> gives a history file.</summary>
    public const string FileExtension = ".history.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// Where the history of the model saved at <paramref name="modelPath"/> is kept by convention: beside it,
    /// with the extension replaced by <see cref="FileExtension"/> (<c>emnist.zip</c> → <c>emnist.history.json</c>).
    /// </summary>
    public static string PathBeside(string modelPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        return Path.ChangeExtension(modelPath, FileExtension);
    }

    /// <summary>Writes the history to <paramref name="path"/> as JSON (one object per epoch), creating its folder.</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder)
            Directory.CreateDirectory(folder);
        File.WriteAllText(path, JsonSerializer.Serialize(this, Json));
    }

    /// <summary>Reads a history written by <see cref="Save"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a training history.</exception>
    public static TrainingHistory Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The training history '{path}' does not exist. 'ocr-mlnet train' writes it beside the model, or call TrainingHistory.Save.", path);
        TrainingHistory? history;
        try
        {
            history = JsonSerializer.Deserialize<TrainingHistory>(BoundedFile.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The training history '{path}' is not valid JSON ({e.Message}). Write it with TrainingHistory.Save.", e);
        }

        if (history?.Epochs is null)
            throw new InvalidDataException($"The training history '{path}' has no epochs. Write it with TrainingHistory.Save.");
        return history;
    }
}

/// <summary>What a training run is doing, reported through <see cref="CharacterCnnTrainer.Options.Progress"/>.</summary>
public enum TrainingPhase
{
    /// <summary>Reading and checking the training data.</summary>
    Preparing,

    /// <summary>Training on batches; <see cref="TrainingProgress.Batch"/> counts them.</summary>
    Training,

    /// <summary>Scoring the validation data.</summary>
    Validating,

    /// <summary>An epoch has finished; <see cref="TrainingProgress.Metrics"/> holds its metrics.</summary>
    EpochCompleted,

    /// <summary>Exporting the trained network to ONNX and building the ML.NET model.</summary>
    Exporting,
}

/// <summary>A progress report from a training run.</summary>
/// <param name="Phase">What the run is doing.</param>
/// <param name="Epoch">1-based epoch in progress.</param>
/// <param name="Epochs">Epochs planned.</param>
/// <param name="Batch">Training batches done in this epoch.</param>
/// <param name="Batches">Training batches per epoch.</param>
/// <param name="RunningLoss">Mean training loss of the epoch so far (NaN before the first report of an epoch).</param>
/// <param name="RunningAccuracy">Training accuracy of the epoch so far.</param>
/// <param name="Metrics">The finished epoch's metrics with <see cref="TrainingPhase.EpochCompleted"/>; otherwise null.</param>
public sealed record TrainingProgress(
    TrainingPhase Phase,
    int Epoch,
    int Epochs,
    int Batch,
    int Batches,
    double RunningLoss,
    double RunningAccuracy,
    EpochMetrics? Metrics);
