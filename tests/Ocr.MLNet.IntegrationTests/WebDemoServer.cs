using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>
/// samples/WebDemo as a separate process on a free 127.0.0.1 port with its own temporary folder, stopped with SIGTERM
/// (a graceful stop that must leave that folder empty); and Debian's headless Chromium to drive its page.
/// </summary>
internal sealed partial class WebDemoServer
{
    private const string ChromiumInstallHint =
        "Install Debian's Chromium with `apt-get update && apt-get install -y --no-install-recommends chromium` (as root; .ci/run does this before the build), or set OCR_MLNET_CHROMIUM to a Chromium executable.";

    /// <summary>The environment variables from which ASP.NET Core reads where to listen.</summary>
    private static readonly string[] AddressVariables =
        ["ASPNETCORE_URLS", "DOTNET_URLS", "URLS", "ASPNETCORE_HTTP_PORTS", "DOTNET_HTTP_PORTS", "HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS", "DOTNET_HTTPS_PORTS", "HTTPS_PORTS"];

    private readonly StringBuilder _output = new();
    private readonly string _temporaryFolder;

    private WebDemoServer(Process process, string temporaryFolder)
    {
        Process = process;
        _temporaryFolder = temporaryFolder;
    }

    public Process Process { get; }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Everything the server printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <summary>Starts the WebDemo serving the pretrained character model, saved into <paramref name="directory"/> (deleted by <see cref="StopAndDelete"/>).</summary>
    public static WebDemoServer StartWithPretrainedModel(string directory)
    {
        string zip = Path.Combine(directory, "pretrained.zip");
        PretrainedCharacterModel.SaveTo(zip);
        return Start(zip, directory);
    }

    /// <summary>
    /// Starts the WebDemo on <paramref name="modelPath"/> in <paramref name="directory"/> and waits until it listens: on
    /// <paramref name="urls"/> (passed as <c>--urls</c>; a free port by default, none when null) with the variables in
    /// <paramref name="environment"/>. The variables that name an address are never inherited from the test's own environment.
    /// </summary>
    public static WebDemoServer Start(string modelPath, string directory, string? urls = "http://127.0.0.1:0",
        IReadOnlyDictionary<string, string>? environment = null)
    {
        string app = Path.Combine(TestEnvironment.OutputOf("samples/WebDemo"), "WebDemo.dll");
        Assert.That(File.Exists(app), Is.True, $"{app} was not built");
        Assert.That(File.Exists(Path.Combine(Path.GetDirectoryName(app)!, "wwwroot", "index.html")), Is.True, "the page must be copied beside the app");

        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { app, "--model", modelPath },
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Port 0: Kestrel picks a free port and the app prints it.
        if (urls is not null)
        {
            start.ArgumentList.Add("--urls");
            start.ArgumentList.Add(urls);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (string name in AddressVariables)
            start.Environment.Remove(name);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        // The server's own temporary folder, to check that a graceful stop leaves nothing in it.
        string temporaryFolder = Directory.CreateDirectory(Path.Combine(directory, "server-tmp")).FullName;
        start.Environment["TMPDIR"] = temporaryFolder;
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = new WebDemoServer(Process.Start(start) ?? throw new InvalidOperationException("Could not start the WebDemo."), temporaryFolder);
        server.Process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (server._output)
                server._output.AppendLine(e.Data);
            if (ListeningLine().Match(e.Data) is { Success: true } match)
                listening.TrySetResult(new Uri(match.Groups[1].Value));
        };
        server.Process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                lock (server._output) server._output.AppendLine(e.Data);
        };
        server.Process.EnableRaisingEvents = true;
        server.Process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("The WebDemo exited before it listened."));
        server.Process.BeginOutputReadLine();
        server.Process.BeginErrorReadLine();

        try
        {
            server.BaseAddress = listening.Task.WaitAsync(TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            server.Process.Kill(entireProcessTree: true);
            Assert.Fail($"The WebDemo did not start: {e.Message}\n{server.Output}");
        }

        return server;
    }

    /// <summary>The server's resident memory now (Linux <c>VmRSS</c> in <c>/proc/PID/status</c>), in bytes.</summary>
    public long ResidentBytes()
    {
        string line = File.ReadLines($"/proc/{Process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>Stops the server with SIGTERM (killing it only if that hangs) and asserts the stop was graceful and left no files.</summary>
    public void Stop()
    {
        bool graceful = false;
        if (!Process.HasExited)
        {
            // SIGTERM: ASP.NET stops gracefully and the WebDemo disposes its model; kill only if that hangs.
            using (var term = Process.Start("kill", $"-TERM {Process.Id}"))
                term.WaitForExit();
            graceful = Process.WaitForExit(20_000);
            if (!graceful)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(10_000);
            }
        }

        Process.Dispose();
        Assert.That(graceful, Is.True, $"the WebDemo did not stop within 20 s of SIGTERM\n{Output}");
        // ONNX Runtime's native telemetry writes one fixed-name session file (.ses); everything else must be gone.
        var left = Directory.EnumerateFileSystemEntries(_temporaryFolder).Where(p => Path.GetFileName(p) != ".ses").ToList();
        Assert.That(left, Is.Empty, "the stopped WebDemo left files in its temporary folder (ML.NET's copies of the ONNX graphs)");
    }

    /// <summary>Stops <paramref name="server"/> (when started) as <see cref="Stop"/> does, then deletes the test's folder whatever happened.</summary>
    public static void StopAndDelete(WebDemoServer? server, string directory)
    {
        try
        {
            server?.Stop();
        }
        finally
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Debian's headless Chromium (or OCR_MLNET_CHROMIUM), never a downloaded browser; fails saying how to install it.</summary>
    public static async Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright)
    {
        string chromium = Environment.GetEnvironmentVariable("OCR_MLNET_CHROMIUM") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";
        if (!File.Exists(chromium))
            Assert.Fail($"Chromium is not installed at '{chromium}'; the browser test needs it. {ChromiumInstallHint}");

        return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            ChromiumSandbox = false,
            // Chromium's own background traffic is refused on a closed network: keep it off.
            Args = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>A page that records its script errors and console errors in <paramref name="errors"/>.</summary>
    public static async Task<IPage> NewPageAsync(IBrowser browser, int width, int height, List<string> errors)
    {
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        page.PageError += (_, message) => errors.Add(message);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
                errors.Add(message.Text);
        };
        return page;
    }

    [GeneratedRegex(@"WebDemo listening on (http://\S+)")]
    private static partial Regex ListeningLine();
}
