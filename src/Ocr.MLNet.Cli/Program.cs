using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Ocr.MLNet;
using Ocr.MLNet.Cli;
using Spectre.Console;
using static TorchSharp.torch;
using Ocr.MLNet.Training;

OnnxRuntimeTelemetry.Disable();
CliContext.SweepLeftovers();

// Redirected output (logs, CI) gets whole lines instead of lines wrapped at 80 columns.
if (Console.IsOutputRedirected)
    AnsiConsole.Profile.Width = 200;

var classesOption = new Option<int>("--classes")
{
    Description = "Number of output classes (the published design's summary uses 48; EMNIST's merged set has 47).",
    DefaultValueFactory = _ => CharacterCnnNetwork.DefaultClassCount,
};
var summary = new Command("summary", "Print the CNN's layers, output shapes and parameter counts, like Keras' model.summary().")
{
    classesOption,
};
summary.SetAction(result =>
{
    TorchBackend.EnsureLoaded();
    using var network = new CharacterCnnNetwork(result.GetValue(classesOption));
    Console.WriteLine(network.Summarize());
    return 0;
});

var batchOption = new Option<int>("--batch")
{
    Description = "Images in the batch.",
    DefaultValueFactory = _ => 128,
};
var seedOption = new Option<int>("--seed")
{
    Description = "Seed for the weights and the random images.",
    DefaultValueFactory = _ => 1,
};
var forward = new Command("forward", "Run a TorchSharp forward pass of the CNN on a batch of random 1×32×32 images and report what came out.")
{
    batchOption,
    seedOption,
    classesOption,
};
forward.SetAction(result =>
{
    int batch = result.GetValue(batchOption);
    if (batch < 1)
    {
        Console.Error.WriteLine($"--batch must be at least 1; got {batch}.");
        return 2;
    }

    TorchBackend.EnsureLoaded();
    random.manual_seed(result.GetValue(seedOption));
    using var network = new CharacterCnnNetwork(result.GetValue(classesOption));
    network.eval();
    using var images = rand(batch, 1, CharacterCnnNetwork.InputSize, CharacterCnnNetwork.InputSize);
    using var noGrad = no_grad();
    using (network.forward(images)) { } // warm-up: the first call initialises libtorch's kernels

    var clock = Stopwatch.StartNew();
    using var probabilities = nn.functional.softmax(network.forward(images), 1);
    clock.Stop();

    using var sums = probabilities.sum(1);
    using var top = probabilities.argmax(1);
    var table = new Table().AddColumns("what", "value");
    table.AddRow("libtorch", TorchBackend.LibTorchVersion);
    table.AddRow("threads", get_num_threads().ToString(CultureInfo.InvariantCulture));
    table.AddRow("input", $"{batch}×1×32×32");
    table.AddRow("output", string.Join("×", probabilities.shape));
    table.AddRow("softmax row sums", $"{sums.min().item<float>():F6} … {sums.max().item<float>():F6}");
    table.AddRow("distinct argmax classes", top.unique().Item1.numel().ToString(CultureInfo.InvariantCulture));
    table.AddRow("forward time", $"{clock.Elapsed.TotalMilliseconds:F1} ms ({batch / clock.Elapsed.TotalSeconds:F0} images/s, one pass after warm-up)");
    AnsiConsole.Write(table);
    return 0;
});

var root = new RootCommand("ocr-mlnet: handwritten-character recognition with ML.NET, TorchSharp and ONNX Runtime.")
{
    summary,
    forward,
    TrainCommand.Create(),
    EvaluateCommand.Create(),
    PredictCommand.Create(),
    ContactSheetCommand.Create(),
    UpgradeCommand.Create(),
    FieldCommands.CreateRead(),
    FieldCommands.CreateEvaluate(),
    TrainFieldsCommand.Create(),
    TrainFieldCharactersCommand.Create(),
};
var parsed = root.Parse(args);
// train and train-fields handle SIGINT and SIGTERM itself (TrainCommand.CancelOnSignals): it finishes the batch and exits 130. System.CommandLine's
// own handler would end the process 2 seconds after the signal, before the "Cancelled." path runs.
bool handlesSignals = parsed.CommandResult.Command.Name is "train" or "train-fields";
return parsed.Invoke(handlesSignals ? new InvocationConfiguration { ProcessTerminationTimeout = null } : null);
