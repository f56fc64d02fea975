using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.ML.Data;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Loading;
using WebDemo;

// A drawing page that sends the canvas as a PNG to POST /api/recognize, which answers the top-5 classes, or (field mode)
// to POST /api/read?kind=..., which answers the text of a written word or number with each character's box.
// Usage: WebDemo --model MODEL.zip [--lines LINES.zip] [--urls http://127.0.0.1:5000]
// (the address: --urls, else ASPNETCORE_URLS, else http://127.0.0.1:5000)
const string DefaultUrl = "http://127.0.0.1:5000";
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    // The page and appsettings.json live beside the app, so it runs from any working directory.
    ContentRootPath = AppContext.BaseDirectory,
});

string? modelPath = builder.Configuration["Model"];
// The field mode's line recognizer: a model written by 'ocr-mlnet train-fields' (without it, fields are read by segmentation).
string? linesPath = builder.Configuration["Lines"];
if (string.IsNullOrWhiteSpace(modelPath))
{
    Console.Error.WriteLine("usage: WebDemo --model MODEL.zip [--lines LINES.zip] [--urls http://127.0.0.1:5000]");
    Console.Error.WriteLine("The model is a zip saved by 'ocr-mlnet train', or any saved pipeline that ends in CharacterCnn.");
    return 2;
}

Recognizer recognizer;
HandwrittenFieldReader fieldReader;
try
{
    recognizer = Recognizer.Load(Path.GetFullPath(modelPath));
}
catch (Exception e) when (e is FileNotFoundException or InvalidDataException)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}

try
{
    // The same model and a line model read whole fields: one reader for the app's lifetime (thread-safe), disposed on stop.
    fieldReader = linesPath is null
        ? HandwrittenFieldReader.Load(Path.GetFullPath(modelPath))
        : HandwrittenFieldReader.Load(Path.GetFullPath(modelPath), Path.GetFullPath(linesPath));
}
catch (Exception e) when (e is FileNotFoundException or InvalidDataException)
{
    recognizer.Dispose();
    Console.Error.WriteLine(e.Message);
    return 1;
}

builder.Services.AddSingleton(recognizer);
builder.Services.AddSingleton(fieldReader);

// ASP.NET Core's precedence holds: --urls, then ASPNETCORE_URLS (or ASPNETCORE_HTTP_PORTS, a Urls setting, Kestrel
// endpoints). Only when none names an address does the demo take its default, on loopback only.
if (!ListenAddressConfigured(builder.Configuration))
    builder.WebHost.UseUrls(DefaultUrl);

builder.WebHost.ConfigureKestrel(kestrel =>
{
    var limits = kestrel.Limits;
    // Twice the image limit (see MaxRequestBytes); past it Kestrel refuses with 413, which UploadReader turns into the JSON error.
    limits.MaxRequestBodySize = UploadReader.MaxRequestBytes;
    // A body that trickles in is cut off (408) once 5 s have passed below 8 KiB/s, so a slow client holds neither a
    // connection nor its partial upload for long, and never a decode slot (taken only once the whole body is read).
    limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 8 * 1024, gracePeriod: TimeSpan.FromSeconds(5));
    // Headers sent slowly, and connections that send nothing (keep-alive), are closed after 10 s (the defaults: 30 s and 130 s).
    limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
    limits.KeepAliveTimeout = TimeSpan.FromSeconds(10);
    // Each connection holds at most one upload buffer (≤ 2 MiB and its copy): 100 connections bound that memory to ~500 MiB.
    limits.MaxConcurrentConnections = 100;
});

var app = builder.Build();
app.UseDefaultFiles();
app.UseStaticFiles();

app.MapGet("/api/model", (Recognizer r) => Results.Ok(new ModelInfo(r.ModelName, r.ClassNames, FieldReply.KindNames)));

app.MapPost("/api/recognize", (HttpRequest request, Recognizer r, CancellationToken cancellation) =>
    WithUploadedImageAsync(request, r.DecodeSlots, image => Results.Ok(r.Recognize(image)), cancellation));

// A whole field (a word, a number): the field reader segments the strokes and classifies every character.
app.MapPost("/api/read", (HttpRequest request, string? kind, Recognizer r, HandwrittenFieldReader fields, CancellationToken cancellation) =>
{
    if (FieldReply.ParseKind(kind) is not { } fieldKind)
        return Task.FromResult(Results.BadRequest(new ErrorReply(FieldReply.UnknownKind(kind!))));
    return WithUploadedImageAsync(request, r.DecodeSlots, image =>
    {
        try
        {
            return Results.Ok(FieldReply.Read(fields, image, fieldKind));
        }
        catch (ArgumentException e)
        {
            // Too many separate marks for one line of handwriting: the reader says so.
            return Results.BadRequest(new ErrorReply(e.Message));
        }
    }, cancellation);
});

app.Lifetime.ApplicationStarted.Register(() =>
{
    var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
    Console.WriteLine($"WebDemo: model '{recognizer.ModelName}' with {recognizer.ClassNames.Count} classes");
    foreach (string address in addresses)
        Console.WriteLine($"WebDemo listening on {address}");
});

// A graceful stop (Ctrl-C, SIGTERM) disposes the model, so ML.NET's temporary copies of its networks are deleted.
app.Lifetime.ApplicationStopped.Register(() =>
{
    fieldReader.Dispose();
    recognizer.Dispose();
});
app.Run();
return 0;

// Reads the upload, refuses what is too large before decoding, and runs `use` on the decoded image inside a decode slot.
static async Task<IResult> WithUploadedImageAsync(HttpRequest request, SemaphoreSlim slots, Func<MLImage, IResult> use, CancellationToken cancellation)
{
    byte[] bytes;
    try
    {
        bytes = await UploadReader.ReadImageBytesAsync(request, Recognizer.MaxUploadBytes, cancellation);
    }
    catch (BadUploadException e)
    {
        return Results.Json(new ErrorReply(e.Message), statusCode: e.StatusCode);
    }

    // At most a few decodes and predictions at once, so memory stays bounded whatever the number of requests.
    if (!await slots.WaitAsync(Recognizer.DecodeSlotWait, cancellation))
    {
        return Results.Json(new ErrorReply($"The server is busy ({Recognizer.DecodeSlotCount} images are being recognized); try again shortly."),
            statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    try
    {
        // The library's decoding, as the CLI's: the declared size capped before decoding, a truncated image refused, EXIF orientation applied.
        MLImage image;
        try
        {
            image = ImageFiles.Decode(bytes, "the upload", Recognizer.MaxPixels);
        }
        catch (CharacterDataException e)
        {
            return Results.BadRequest(new ErrorReply($"{e.Message} Send a whole PNG or JPEG image of at most {Recognizer.MaxPixels:N0} pixels."));
        }

        using (image)
            return use(image);
    }
    finally
    {
        slots.Release();
    }
}

// Whether the command line, the environment or a setting names where to listen (the keys ASP.NET Core's host reads).
static bool ListenAddressConfigured(IConfiguration configuration) =>
    !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.ServerUrlsKey])
    || !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.HttpPortsKey])
    || !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.HttpsPortsKey])
    || configuration.GetSection("Kestrel:Endpoints").Exists();

internal sealed record ModelInfo(string Model, IReadOnlyList<string> Classes, IReadOnlyList<string> FieldKinds);

internal sealed record ErrorReply(string Error);
