using System.Net;
using System.Net.Sockets;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>
/// Where the WebDemo listens follows ASP.NET Core's precedence: the <c>--urls</c> argument, then the
/// <c>ASPNETCORE_URLS</c> variable, then the app's default, http://127.0.0.1:5000.
/// </summary>
[TestFixture]
[Category("Integration")]
[Category("WebDemo")]
[NonParallelizable]
public sealed class WebDemoUrlsTests
{
    private const int DefaultPort = 5000;

    private string _directory = "";
    private string _model = "";

    [OneTimeSetUp]
    public void SaveThePretrainedModel()
    {
        _directory = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-webdemo-urls");
        _model = Path.Combine(_directory, "pretrained.zip");
        PretrainedCharacterModel.SaveTo(_model);
    }

    [OneTimeTearDown]
    public void DeleteTheFolder() => WebDemoServer.StopAndDelete(null, _directory);

    [Test]
    public async Task ASPNETCORE_URLS_is_where_it_listens_when_no_urls_argument_is_given()
    {
        int port = FreePorts(1)[0];
        var server = WebDemoServer.Start(_model, _directory, urls: null,
            new Dictionary<string, string> { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}" });
        try
        {
            Assert.That(server.BaseAddress.Port, Is.EqualTo(port), server.Output);
            Assert.That(await ModelStatusAsync(port), Is.EqualTo(HttpStatusCode.OK), "the server answers on the port ASPNETCORE_URLS names");
        }
        finally
        {
            server.Stop();
        }
    }

    [Test]
    public async Task The_urls_argument_wins_over_ASPNETCORE_URLS()
    {
        int[] ports = FreePorts(2);
        int fromEnvironment = ports[0], fromArgument = ports[1];
        var server = WebDemoServer.Start(_model, _directory, urls: $"http://127.0.0.1:{fromArgument}",
            new Dictionary<string, string> { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{fromEnvironment}" });
        try
        {
            Assert.That(server.BaseAddress.Port, Is.EqualTo(fromArgument), server.Output);
            Assert.That(await ModelStatusAsync(fromArgument), Is.EqualTo(HttpStatusCode.OK));
            Assert.That(IsListening(fromEnvironment), Is.False, "nothing listens on the port of ASPNETCORE_URLS");
        }
        finally
        {
            server.Stop();
        }
    }

    [Test]
    public async Task Without_an_argument_or_a_variable_it_listens_on_127_0_0_1_port_5000()
    {
        // Another app (or another WebDemo) may hold port 5000 on this machine; the default cannot be tried then.
        if (IsListening(DefaultPort))
            Assert.Inconclusive($"Port {DefaultPort} is in use on 127.0.0.1, so the default address cannot be tried.");

        var server = WebDemoServer.Start(_model, _directory, urls: null);
        try
        {
            Assert.That(server.BaseAddress, Is.EqualTo(new Uri($"http://127.0.0.1:{DefaultPort}")), server.Output);
            Assert.That(await ModelStatusAsync(DefaultPort), Is.EqualTo(HttpStatusCode.OK));
        }
        finally
        {
            server.Stop();
        }
    }

    private static async Task<HttpStatusCode> ModelStatusAsync(int port)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{port}/api/model"));
        return response.StatusCode;
    }

    /// <summary>Distinct ports that were free on 127.0.0.1 a moment ago (the system picks them, all held at once).</summary>
    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        int[] ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }

    private static bool IsListening(int port)
    {
        using var client = new TcpClient();
        try
        {
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
