using System.Diagnostics;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ocr.MLNet.Lines;

/// <summary>
/// The line recognizer's TorchSharp loop: every prepared line lives in one byte tensor, each batch is an index_select of
/// it, perturbed afresh, scored by CTC. The loop shares the character trainer's state and callbacks (early stopping,
/// TensorBoard, progress and epoch lines) and writes its own checkpoint (the network differs).
/// </summary>
internal sealed class LineTrainingLoop
{
    /// <summary>Lines per ONNX Runtime preparation run and per synthetic generation chunk.</summary>
    private const int PreparationChunk = 256;

    /// <summary>
    /// Training lines (spread evenly over the training set) whose exact BatchNorm statistics replace the moving ones after
    /// every epoch when they are not frozen: the moving averages follow the last ten batches only, and one epoch of a
    /// bfloat16 pretraining validated at 5 % exact between epochs at 70 % and 75 % (benchmarks/JOURNAL.md, 2026-12-08).
    /// </summary>
    private const int BatchNormCalibrationLines = 2048;

    /// <summary>The longest linear warm-up of the learning rate, in optimizer steps.</summary>
    private const int MaxWarmupSteps = 200;

    // Wide lines: the character trainer's ±10° would tip a 256-pixel line by 45 pixels at its ends.
    private static readonly ImageAugmentationOptions LineAugmentation = new()
    {
        RotationDegrees = 1.5,
        ShiftFraction = 0.04,
        ZoomRange = 0.08,
        ShearDegrees = 12,
    };

    private readonly IHostEnvironment environment;
    private readonly LineRecognizerTrainer.Options options;
    private readonly IChannel log;
    private readonly string alphabet = LineImageFormat.DefaultAlphabet;
    private readonly CtcDecoder bestPath = new(LineImageFormat.DefaultAlphabet, new CtcDecoderOptions { BeamWidth = 1, LetterFrequencies = null });

    public LineTrainingLoop(IHostEnvironment environment, LineRecognizerTrainer.Options options, IChannel log)
    {
        this.environment = environment;
        this.options = options;
        this.log = log;
    }

    public LineRecognizerModel Run(IDataView input)
    {
        NativeMemoryTuning.ApplyForTraining();
        if (options.NumberOfThreads is int threads)
            set_num_threads(threads);
        var clock = Stopwatch.StartNew();
        var budget = options.TimeBudget is { } limit ? new TrainingTimeBudget(limit, options.Epochs, Info) : null;
        string allowed = CtcDecoder.AllowedCharactersFor(options.Kind, LineImageFormat.DefaultAlphabet);
        LineRows train, validation;
        using (var preparation = new LinePreparation())
        {
            var rows = LineRows.Read(input, options.ImageColumnName, options.LabelColumnName, allowed, LineInputFor(), preparation, "training data");
            if (options.ValidationData is { } validationData)
            {
                train = rows;
                validation = LineRows.Read(validationData, options.ImageColumnName, options.LabelColumnName, allowed, LineInputFor(), preparation, "validation data");
            }
            else
            {
                (train, validation) = rows.Split(options.ValidationFraction, options.Seed);
            }

            if (options.SyntheticFields > 0)
            {
                var synthetic = LineRows.Synthesize(options.Synthetic, options.SyntheticCharacters, LineInputFor(), options.SyntheticFields, preparation, options.CancellationToken);
                Info($"Drew {synthetic.Count:N0} synthetic fields in {clock.Elapsed.TotalSeconds:F0} s.");
                if (rows.Count == 0 && options.ValidationData is null)
                    (synthetic, validation) = synthetic.Split(options.ValidationFraction, options.Seed); // pretraining validates on synthetic fields it does not train on
                train = train.Concat(synthetic);
            }
        }

        if (train.Count == 0)
            throw new InvalidDataException("There are no training rows: give rows with an image and a text, or synthetic fields (SyntheticFields).");
        Info($"Training the line recognizer on {train.Count:N0} fields, validating on {validation.Count:N0}.");

        random.manual_seed(options.Seed);
        var network = new LineRecognizerNetwork(1 + alphabet.Length, options.DropoutRate);
        if (options.BaseModel is { } baseModel)
        {
            using var stream = baseModel();
            LineRecognizerModel.LoadWeights(stream, network);
            Info("Starting from the base model's weights.");
        }

        bool freezeStatistics = options.FreezesBatchNormStatistics;
        if (freezeStatistics)
            Info("BatchNorm statistics stay as they are (normalising as in inference); their scale and shift train.");
        network.ComputeType = PrecisionSupport.Resolve(options.Precision, CPU);
        Info($"Training in {(network.ComputeType == ScalarType.BFloat16 ? "bfloat16 mixed precision" : "float32")} on the CPU.");
        using var optimizer = optim.Adam(network.parameters(), options.LearningRate);
        int batches = (train.Count + options.BatchSize - 1) / options.BatchSize;
        var state = new TrainingState(network, optimizer, [alphabet], batches, options.LearningRate);
        var checkpoint = options.CheckpointDirectory is { } directory ? new LineCheckpoint(directory, options, train.Count) : null;
        if (checkpoint?.TryRestore(state) == true)
            Info($"Resuming from the checkpoint of epoch {state.Epoch} in '{options.CheckpointDirectory}'.");

        using var x = train.PixelTensor();
        using var xValidation = validation.Count > 0 ? validation.PixelTensor() : null;
        var earlyStopping = options.EarlyStoppingPatience is int patience
            ? new EarlyStopping(options.EarlyStoppingMonitor, patience, 0, restoreBestWeights: true, Info)
            : null;
        var callbacks = new List<ITrainingCallback>();
        if (!freezeStatistics)
            callbacks.Add(new BatchNormRecalibration(x, BatchNormCalibrationLines, options.BatchSize));
        if (earlyStopping is not null && validation.Count > 0)
            callbacks.Add(earlyStopping);
        if (options.LogDirectory is { } logDirectory)
            callbacks.Add(new TensorBoardLogger(logDirectory, validation.Count > 0));
        int epochs = options.Epochs;
        double epochSeconds = 0; // this run's finished epochs, validation and checkpoint included, for the budget's corrections
        var augmenter = options.Augment ? new ImageAugmenter(LineAugmentation) : null;

        foreach (var callback in callbacks)
            callback.OnTrainBegin(state);
        var reporter = new ProgressReporter(options.Progress, Info, epochs);
        for (int epoch = state.Epoch + 1; epoch <= epochs && !state.StopTraining; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            random.manual_seed(TrainingLoop.EpochSeed(options.Seed, epoch));
            network.train();
            if (freezeStatistics)
                network.FreezeBatchNormStatistics();
            var (loss, exact, rate) = TrainEpoch(state, reporter, budget, augmenter, x, train, epoch, ref epochs);
            double seconds = epochClock.Elapsed.TotalSeconds;
            foreach (var callback in callbacks)
                callback.OnTrainingBatchesEnd(state, epoch);
            double? validationLoss = null, validationExact = null;
            if (xValidation is not null)
                (validationLoss, validationExact) = Evaluate(network, xValidation, validation);
            var metrics = new EpochMetrics(epoch, loss, exact, validationLoss, validationExact, rate, epochClock.Elapsed, train.Count / Math.Max(seconds, 1e-9));
            state.History.Add(metrics);
            state.Epoch = epoch;
            foreach (var callback in callbacks)
                callback.OnEpochEnd(state, metrics);
            reporter.OnEpochEnd(state, metrics);
            checkpoint?.Save(state);
            if (budget is not null)
            {
                epochSeconds += epochClock.Elapsed.TotalSeconds;
                reporter.Epochs = epochs = budget.Correct(epochSeconds / (epoch - state.ResumedAfterEpoch), epoch, epochs);
            }
        }

        foreach (var callback in callbacks)
            callback.OnTrainEnd(state);
        state.DisposeBestWeights();
        network.eval();
        network.ComputeType = ScalarType.Float32;
        var history = state.ToHistory(earlyStopping is { RestoresBestWeights: true } ? state.EarlyStopping.BestEpoch : null);
        Info($"Trained in {clock.Elapsed.TotalMinutes:F1} min.");
        return LineRecognizerModel.Create(environment, network, options, history);
    }

    private (double Loss, double Exact, double Rate) TrainEpoch(TrainingState state, ProgressReporter reporter, TrainingTimeBudget? budget, ImageAugmenter? augmenter,
        Tensor x, LineRows rows, int epoch, ref int epochs)
    {
        var network = state.Network;
        int batches = state.BatchesPerEpoch;
        using var order = randperm(rows.Count);
        var running = new RunningMetrics();
        double rate = 0;
        for (int batch = 0; batch < batches; batch++)
        {
            options.CancellationToken.ThrowIfCancellationRequested();
            int start = batch * options.BatchSize;
            int length = Math.Min(options.BatchSize, rows.Count - start);
            if (length < 2)
                break; // BatchNorm needs two lines
            using (NewDisposeScope())
            {
                long step = state.Step;
                double progress = step / (double)(epochs * batches);
                // Linear warm-up over a tenth of the run, at most 200 steps: Adam's first, noisy moments must not move a fine-tuned model far.
                double warmup = Math.Clamp(epochs * batches / 10.0, 1, MaxWarmupSteps);
                rate = options.LearningRate * Math.Min(1, (step + 1) / warmup) * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(progress, 1)));
                foreach (var group in state.Optimizer.ParamGroups)
                    group.LearningRate = rate;

                var indices = order.narrow(0, start, length);
                var images = LineRows.NetworkInput(x.index_select(0, indices));
                if (augmenter is not null)
                    images = augmenter.Augment(images);
                long[] picked = indices.data<long>().ToArray();
                var (targets, targetLengths) = rows.Targets(picked);

                state.Optimizer.zero_grad();
                var logits = network.forward(images);                        // N×T×C
                var logProbabilities = logits.log_softmax(2).permute(1, 0, 2); // T×N×C, as CTC wants it
                var inputLengths = full([length], LineImageFormat.TimeSteps, int64);
                var loss = nn.functional.ctc_loss(logProbabilities, targets, inputLengths, targetLengths, blank: 0, reduction: nn.Reduction.Mean, zero_infinity: true);
                double value = loss.item<float>();
                if (!double.IsFinite(value))
                    throw new TrainingDivergedException(epoch, batch + 1, batches, value, rate);
                loss.backward();
                nn.utils.clip_grad_norm_(network.parameters(), 5.0);
                state.Optimizer.step();
                long right = CountExact(logits, rows, picked);
                running.Add(value, right, length, Math.Min(start + length, rows.Count));
            }

            state.Step++;
            reporter.OnBatchEnd(state, new BatchEnd(epoch, batch + 1, batches, running));
            if (budget is not null && epoch == state.ResumedAfterEpoch + 1 && budget.AfterFirstEpochBatch(batch, batches, state.ResumedAfterEpoch) is int planned)
                reporter.Epochs = epochs = planned;
        }

        return (running.Loss, running.Accuracy, rate);
    }

    /// <summary>Mean CTC loss and the share of lines read exactly (best path) in evaluation mode.</summary>
    private (double Loss, double Exact) Evaluate(nn.Module<Tensor, Tensor> network, Tensor x, LineRows rows)
    {
        network.eval();
        using var noGrad = no_grad();
        double lossSum = 0;
        long exact = 0;
        for (int start = 0; start < rows.Count; start += 128)
        {
            using var scope = NewDisposeScope();
            int length = Math.Min(128, rows.Count - start);
            long[] picked = Enumerable.Range(start, length).Select(i => (long)i).ToArray();
            var logits = network.forward(LineRows.NetworkInput(x.narrow(0, start, length)));
            var (targets, targetLengths) = rows.Targets(picked);
            var loss = nn.functional.ctc_loss(logits.log_softmax(2).permute(1, 0, 2), targets, full([length], LineImageFormat.TimeSteps, int64),
                targetLengths, blank: 0, reduction: nn.Reduction.Sum, zero_infinity: true);
            lossSum += loss.item<float>();
            exact += CountExact(logits, rows, picked);
        }

        network.train();
        return (lossSum / Math.Max(1, rows.Count), exact / (double)Math.Max(1, rows.Count));
    }

    /// <summary>Lines whose best path (the decoder at beam width 1: collapse repeats, drop blanks) is their text.</summary>
    private long CountExact(Tensor logits, LineRows rows, long[] picked)
    {
        using var scope = NewDisposeScope();
        float[] logProbabilities = logits.detach().log_softmax(2).to(float32).data<float>().ToArray();
        int perLine = (int)(logits.shape[1] * logits.shape[2]);
        long right = 0;
        for (int i = 0; i < picked.Length; i++)
        {
            if (bestPath.Decode(logProbabilities.AsSpan(i * perLine, perLine), (int)logits.shape[1]).Text == rows.Texts[(int)picked[i]])
                right++;
        }

        return right;
    }

    private LineRows.InputShape LineInputFor() => new(options.Input, options.Kind);

    private void Info(string message) => log.Info(MessageSensitivity.None, message);
}
