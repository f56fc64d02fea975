using Ocr.MLNet.Build;

namespace Ocr.MLNet.Tests;

/// <summary>
/// Packs Ocr.MLNet and builds, runs and publishes a throw-away app outside the repository that
/// references it from a local folder feed plus TorchSharp-cpu: this proves the buildTransitive patch.
/// </summary>
[TestFixture]
[Category("Package")]
[NonParallelizable]
public sealed class PackageTests
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(6);

    [Test]
    public void A_fresh_app_referencing_the_packed_package_builds_publishes_and_runs_torchsharp()
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

            using (var zip = System.IO.Compression.ZipFile.OpenRead(package))
            {
                var entries = zip.Entries.Select(e => e.FullName).ToList();
                Assert.That(entries, Does.Contain("buildTransitive/Ocr.MLNet.targets"));
                Assert.That(entries, Does.Contain("buildTransitive/tasks/netstandard2.0/Ocr.MLNet.Build.Tasks.dll"));
                Assert.That(entries, Does.Contain("lib/net10.0/Ocr.MLNet.dll"));
                Assert.That(entries, Does.Contain("lib/net10.0/Ocr.MLNet.xml"));
                Assert.That(entries, Does.Contain("README.md"));
            }

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
            File.WriteAllText(Path.Combine(app, "Program.cs"), """
                using Ocr.MLNet;
                using Ocr.MLNet.Models;
                using static TorchSharp.torch;

                TorchBackend.EnsureLoaded();
                random.manual_seed(3);
                using var network = new CharacterCnnNetwork();
                network.eval();
                using var probabilities = nn.functional.softmax(network.forward(rand(2, 1, 32, 32)), 1);
                Console.WriteLine($"shape {probabilities.shape[0]}x{probabilities.shape[1]} sum {probabilities.sum().item<float>():F3}");
                """);

            var build = TestEnvironment.Run("dotnet", "build -c Release", app, StepTimeout);
            Assert.That(build.ExitCode, Is.Zero, build.Output);
            Assert.That(build.Output, Does.Contain("marked GLIBCXX_3.4.32 weak"), "the package's build step did not run");
            string built = Path.Combine(app, "bin", "Release", "net10.0");
            Assert.That(ElfVersionNeedPatcher.Inspect(Path.Combine(built, "runtimes", "linux-x64", "native", "libLibTorchSharp.so")).Outcome,
                Is.EqualTo(VersionNeedPatchOutcome.AlreadyPatched));

            var run = TestEnvironment.Run("dotnet", Path.Combine(built, "SmokeApp.dll"), app, StepTimeout);
            Assert.That(run.ExitCode, Is.Zero, run.Output);
            Assert.That(run.Output, Does.Contain("shape 2x47 sum 2.000"));

            string published = Path.Combine(work, "published");
            var publish = TestEnvironment.Run("dotnet", $"publish -c Release -o \"{published}\"", app, StepTimeout);
            Assert.That(publish.ExitCode, Is.Zero, publish.Output);
            Assert.That(ElfVersionNeedPatcher.Inspect(Path.Combine(published, "runtimes", "linux-x64", "native", "libLibTorchSharp.so")).Outcome,
                Is.EqualTo(VersionNeedPatchOutcome.AlreadyPatched));
            var runPublished = TestEnvironment.Run("dotnet", Path.Combine(published, "SmokeApp.dll"), app, StepTimeout);
            Assert.That(runPublished.ExitCode, Is.Zero, runPublished.Output);
            Assert.That(runPublished.Output, Does.Contain("shape 2x47 sum 2.000"));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
