using Ocr.MLNet.Build;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>
/// Packs Ocr.MLNet and builds, runs and publishes a throw-away app outside the repository that
/// references it from a local folder feed plus TorchSharp-cpu: this proves the buildTransitive patch and
/// the public API as a user writes it (train on images drawn in memory, save, load, predict an image file).
/// </summary>
[TestFixture]
[Category("Integration")]
[Category("Package")]
[NonParallelizable]
public sealed class PackageTests
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(6);

    [Test]
    public void A_fresh_app_referencing_the_packed_package_trains_saves_loads_and_predicts_after_build_and_publish()
    {
        string work = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-package");
        try
        {
            string feed = Path.Combine(work, "feed");
            string app = Path.Combine(work, "app");
            string packages = Path.Combine(work, "packages");
            Directory.CreateDirectory(app);
            string version = "0.0.0-smoke";
            string project = Path.Combine(TestEnvironment.RepositoryRoot, "src", "Ocr.MLNet", "Ocr.MLNet.csproj");

            var pack = TestEnvironment.Run("dotnet", $"pack \"{project}\" -c Release -o \"{feed}\" -p:Version={version}",
                TestEnvironment.RepositoryRoot, StepTimeout);
            Assert.That(pack.ExitCode, Is.Zero, pack.Output);
            string package = Path.Combine(feed, $"Ocr.MLNet.{version}.nupkg");
            Assert.That(File.Exists(package), Is.True, $"no {package}\n{pack.Output}");

            AssertPackageFitToPublish(feed, version);

            // Own package folder so the smoke version never lands in the user's cache; everything
            // else comes from that cache as a fallback folder, so nothing is downloaded again.
            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <config>
                    <add key="globalPackagesFolder" value="{packages}" />
                  </config>
                  <fallbackPackageFolders>
                    <add key="cache" value="{TestEnvironment.NuGetPackageRoot}" />
                  </fallbackPackageFolders>
                  <packageSources>
                    <clear />
                    <add key="local" value="{feed}" />
                    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
                  </packageSources>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(app, "SmokeApp.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="Ocr.MLNet" Version="{version}" />
                    <PackageReference Include="TorchSharp-cpu" Version="{TestEnvironment.TorchSharpVersion}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), SmokeProgram);

            var build = TestEnvironment.Run("dotnet", "build -c Release", app, StepTimeout);
            Assert.That(build.ExitCode, Is.Zero, build.Output);
            Assert.That(build.Output, Does.Contain("marked GLIBCXX_3.4.32 weak"), "the package's build step did not run");
            string built = Path.Combine(app, "bin", "Release", "net10.0");
            Assert.That(ElfVersionNeedPatcher.Inspect(Path.Combine(built, "runtimes", "linux-x64", "native", "libLibTorchSharp.so")).Outcome,
                Is.EqualTo(VersionNeedPatchOutcome.AlreadyPatched));

            var run = TestEnvironment.Run("dotnet", $"\"{Path.Combine(built, "SmokeApp.dll")}\" \"{Path.Combine(work, "run-built")}\" \"{RealUpperCaseA}\"", app, StepTimeout);
            AssertRoundTrip(run);

            string published = Path.Combine(work, "published");
            var publish = TestEnvironment.Run("dotnet", $"publish -c Release -o \"{published}\"", app, StepTimeout);
            Assert.That(publish.ExitCode, Is.Zero, publish.Output);
            Assert.That(ElfVersionNeedPatcher.Inspect(Path.Combine(published, "runtimes", "linux-x64", "native", "libLibTorchSharp.so")).Outcome,
                Is.EqualTo(VersionNeedPatchOutcome.AlreadyPatched));
            var runPublished = TestEnvironment.Run("dotnet", $"\"{Path.Combine(published, "SmokeApp.dll")}\" \"{Path.Combine(work, "run-published")}\" \"{RealUpperCaseA}\"", app, StepTimeout);
            AssertRoundTrip(runPublished);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static readonly string[] SmokeClasses = ["O", "I", "L", "X"];

    /// <summary>A real NIST SD19 upper-case A from the repository's samples (see samples/images/PROVENANCE.md).</summary>
    private static string RealUpperCaseA => Path.Combine(TestEnvironment.RepositoryRoot, "samples", "images", "sd19", "train_41_00999.png");

    /// <summary>
    /// The throw-away app: a TorchSharp forward pass, then train → save → load → predict through the public API on
    /// glyphs drawn with SkiaSharp, as a user of the package would write it. Argument: a folder for its files.
    /// </summary>
    private const string SmokeProgram = """
        using Microsoft.ML;
        using Ocr.MLNet;
        using Ocr.MLNet.Preparation;
        using Ocr.MLNet.Serving;
        using Ocr.MLNet.Training;
        using SkiaSharp;
        using static TorchSharp.torch;

        string work = args.Length > 0 ? args[0] : Directory.GetCurrentDirectory();
        Directory.CreateDirectory(work);

        TorchBackend.EnsureLoaded();
        random.manual_seed(3);
        using (var network = new CharacterCnnNetwork())
        {
            network.eval();
            using var probabilities = nn.functional.softmax(network.forward(rand(2, 1, 32, 32)), 1);
            Console.WriteLine($"shape {probabilities.shape[0]}x{probabilities.shape[1]} sum {probabilities.sum().item<float>():F3}");
        }

        // A tiny labelled set drawn in memory: white strokes on black, 28×28 like EMNIST.
        string[] classes = ["O", "I", "L", "X"];
        var strokes = new Random(7);
        byte[] Draw(string label)
        {
            using var bitmap = new SKBitmap(28, 28);
            using (var canvas = new SKCanvas(bitmap))
            using (var paint = new SKPaint { Color = SKColors.White, Style = SKPaintStyle.Stroke, IsAntialias = true, StrokeWidth = 2 + strokes.Next(2) })
            {
                canvas.Clear(SKColors.Black);
                float x = 14 + strokes.Next(-3, 4), y = 14 + strokes.Next(-3, 4), h = 7 + strokes.Next(0, 3);
                switch (label)
                {
                    case "O": canvas.DrawOval(x, y, h * 0.7f, h, paint); break;
                    case "I": canvas.DrawLine(x, y - h, x, y + h, paint); break;
                    case "L": canvas.DrawLine(x - 4, y - h, x - 4, y + h, paint); canvas.DrawLine(x - 4, y + h, x + 5, y + h, paint); break;
                    default: canvas.DrawLine(x - 6, y - h, x + 6, y + h, paint); canvas.DrawLine(x + 6, y - h, x - 6, y + h, paint); break;
                }
            }

            using var image = SKImage.FromBitmap(bitmap);
            using var png = image.Encode(SKEncodedImageFormat.Png, 100);
            return png.ToArray();
        }

        // The README's pipeline: image files in, LoadImages → PrepareCharacterImages → CharacterCnn, keyed labels.
        var files = Enumerable.Range(0, 40).SelectMany(i => classes.Select(label =>
        {
            string path = Path.Combine(work, $"train-{label}-{i}.png");
            File.WriteAllBytes(path, Draw(label));
            return new LabelledFile { Label = label, ImagePath = path };
        })).ToList();
        var mlContext = new MLContext(seed: 1);
        IDataView data = mlContext.Data.LoadFromEnumerable(files);
        data = mlContext.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Fit(data).Transform(data);
        var pipeline = mlContext.Transforms.LoadImages("Image", imageFolder: null, "ImagePath")
            .Append(mlContext.Transforms.PrepareCharacterImages())
            .Append(mlContext.MulticlassClassification.Trainers.CharacterCnn(new CharacterCnnTrainer.Options
            {
                Epochs = 2,
                BatchSize = 32,
                Seed = 1,
                BatchNormMomentum = 0.5, // ten batches: let the moving statistics that inference uses keep up
            }));
        using var model = pipeline.Fit(data); // disposing deletes ML.NET's temporary copies of the ONNX graphs
        Console.WriteLine(model.LastTransformer.History.Epochs[^1]);
        Console.WriteLine($"classes {string.Join(" ", model.LastTransformer.ClassNames)}");
        Console.WriteLine($"evaluated accuracy {mlContext.MulticlassClassification.Evaluate(model.Transform(data)).MicroAccuracy:F3}");

        string zip = Path.Combine(work, "ocr.zip");
        mlContext.Model.Save(model, data.Schema, zip);

        string probe = Path.Combine(work, "probe-O.png");
        File.WriteAllBytes(probe, Draw("O"));
        var user = new MLContext();
        ITransformer loaded = user.Model.Load(zip, out _);
        using var engine = user.Model.CreatePredictionEngine<Input, Output>(loaded);
        Output result = engine.Predict(new Input { ImagePath = probe });
        Console.WriteLine($"predicted {result.PredictedCharacter} ({result.Score.Length} scores, max {result.Score.Max():F3})");

        // The pretrained model inside the package: one call, no training, on a real NIST SD19 character.
        if (args.Length > 1)
        {
            ITransformer pretrained = user.Model.LoadPretrainedCharacterModel(CharacterModelInput.ImagePath);
            using var reader = user.Model.CreatePredictionEngine<Input, Output>(pretrained);
            Output read = reader.Predict(new Input { ImagePath = args[1] });
            Console.WriteLine($"pretrained predicted {read.PredictedCharacter} ({read.Score.Length} classes, p {read.Score.Max():F3})");
        }

        sealed class LabelledFile { public string Label { get; set; } = ""; public string ImagePath { get; set; } = ""; }
        sealed class Input { public string ImagePath { get; set; } = ""; }
        sealed class Output { public float[] Score { get; set; } = []; public string PredictedCharacter { get; set; } = ""; }
        """;

    private static void AssertRoundTrip((int ExitCode, string Output) run)
    {
        TestContext.Out.WriteLine(run.Output);
        Assert.That(run.ExitCode, Is.Zero, run.Output);
        Assert.That(run.Output, Does.Contain("shape 2x47 sum 2.000"));
        Assert.That(run.Output, Does.Match(@"Epoch 2: loss \d+\.\d{4}, accuracy \d\.\d{4}"), run.Output);
        Assert.That(run.Output, Does.Contain($"classes {string.Join(" ", SmokeClasses.Order(StringComparer.Ordinal))}"), run.Output);
        Assert.That(run.Output, Does.Match(@"evaluated accuracy [01]\.\d{3}"), "MulticlassClassification.Evaluate runs on the model's output as it is");
        var predicted = System.Text.RegularExpressions.Regex.Match(run.Output, @"predicted (\S+) \((\d+) scores");
        Assert.That(predicted.Success, Is.True, run.Output);
        Assert.That(predicted.Groups[1].Value, Is.EqualTo("O"), "the probe is a drawn 'O'\n" + run.Output);
        Assert.That(predicted.Groups[2].Value, Is.EqualTo(SmokeClasses.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)), run.Output);
        Assert.That(run.Output, Does.Match(@"pretrained predicted A \(47 classes, p [01]\.\d{3}\)"), "the packed pretrained model reads a real SD19 'A'\n" + run.Output);
    }

    /// <summary>What nuget.org and a user's debugger need: README, XML docs, licence, repository, and a symbols package with a SourceLink PDB.</summary>
    private static void AssertPackageFitToPublish(string feed, string version)
    {
        using (var zip = System.IO.Compression.ZipFile.OpenRead(Path.Combine(feed, $"Ocr.MLNet.{version}.nupkg")))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToList();
            Assert.That(entries, Does.Contain("buildTransitive/Ocr.MLNet.targets"));
            Assert.That(entries, Does.Contain("buildTransitive/tasks/netstandard2.0/Ocr.MLNet.Build.Tasks.dll"));
            Assert.That(entries, Does.Contain("lib/net10.0/Ocr.MLNet.dll"));
            Assert.That(entries, Does.Contain("lib/net10.0/Ocr.MLNet.xml"));
            Assert.That(entries, Does.Contain("README.md"));
            Assert.That(entries.Where(e => e.EndsWith(".pdb", StringComparison.Ordinal)), Is.Empty, "symbols belong in the .snupkg");

            using var reader = new StreamReader(zip.GetEntry("Ocr.MLNet.nuspec")!.Open());
            var nuspec = System.Xml.Linq.XDocument.Parse(reader.ReadToEnd());
            var metadata = nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            string? Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;
            var license = metadata.Elements().Single(e => e.Name.LocalName == "license");
            Assert.That(license.Attribute("type")?.Value, Is.EqualTo("expression"));
            Assert.That(license.Value, Is.EqualTo("MIT"));
            Assert.That(Field("readme"), Is.EqualTo("README.md"));
            Assert.That(Field("description"), Does.StartWith("Train and use a handwritten-character recognizer (digits and English letters"));
            Assert.That(Field("authors"), Is.EqualTo("Ocr.MLNet contributors"));
            Assert.That(Field("tags"), Does.Contain("ML.NET"));
            Assert.That(Field("projectUrl"), Does.StartWith("https://"));
            var repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
            Assert.That(repository.Attribute("url")?.Value, Does.StartWith("https://"));
            Assert.That(repository.Attribute("commit")?.Value, Does.Match("^[0-9a-f]{40}$"));

            using var readme = new StreamReader(zip.GetEntry("README.md")!.Open());
            Assert.That(readme.ReadToEnd(), Does.Contain("CharacterCnn").And.Contain("mlContext.Model.Load"));
        }

        string symbols = Path.Combine(feed, $"Ocr.MLNet.{version}.snupkg");
        Assert.That(File.Exists(symbols), Is.True, $"no {symbols}");
        using (var zip = System.IO.Compression.ZipFile.OpenRead(symbols))
        {
            var pdb = zip.GetEntry("lib/net10.0/Ocr.MLNet.pdb");
            Assert.That(pdb, Is.Not.Null, "the .snupkg has no PDB");
            using var stream = new MemoryStream();
            using (var entry = pdb!.Open())
                entry.CopyTo(stream);
            // The SourceLink JSON is stored as plain UTF-8 in the portable PDB.
            Assert.That(System.Text.Encoding.UTF8.GetString(stream.ToArray()), Does.Contain("https://raw.githubusercontent.com/"), "the PDB has no SourceLink map");
        }
    }
}
