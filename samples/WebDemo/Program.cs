using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.ML.Data;
using WebDemo;

// A drawing page that sends the canvas as a PNG to POST /api/recognize, which answers the top-5 classes.
// Usage: WebDemo --model MODEL.zip [--urls http://127.0.0.1:5000]
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    // The page and appsettings.json live beside the app, so it runs from any working directory.
    ContentRootPath = AppContext.BaseDirectory,
});

string? modelPath = builder.Configuration["Model"];
if (string.IsNullOrWhiteSpace(modelPath))
{
    Console.Error.WriteLine("usage: WebDemo --model MODEL.zip [--urls http://127.0.0.1:5000]");
    Console.Error.WriteLine("The model is a zip saved by 'ocr-mlnet train', or any saved pipeline that ends in CharacterCnn.");
    return 2;
}

Recognizer recognizer;
try
{
    recognizer = Recognizer.Load(Path.GetFullPath(modelPath));
}
catch (Exception e) when (e is FileNotFoundException or InvalidDataException)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}

builder.Services.AddSingleton(recognizer);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = Recognizer.MaxUploadBytes * 2);

var app = builder.Build();
app.UseDefaultFiles();
app.UseStaticFiles();

app.MapGet("/api/model", (Recognizer r) => Results.Ok(new ModelInfo(r.ModelName, r.ClassNames)));

app.MapPost("/api/recognize", async (HttpRequest request, Recognizer r, CancellationToken cancellation) =>
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

    // The header alone says the size: a few hundred bytes of PNG can declare 60000×60000 pixels (13 GiB decoded).
    if (UploadReader.CheckImageHeader(bytes) is string headerProblem)
        return Results.BadRequest(new ErrorReply(headerProblem));

    // At most a few decodes and predictions at once, so memory stays bounded whatever the number of requests.
    if (!await r.DecodeSlots.WaitAsync(Recognizer.DecodeSlotWait, cancellation))
    {
        return Results.Json(new ErrorReply($"The server is busy ({Recognizer.DecodeSlotCount} images are being recognized); try again shortly."),
            statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    try
    {
        MLImage image;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            image = MLImage.CreateFromStream(stream);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
        {
            return Results.BadRequest(new ErrorReply(
                $"The upload ({bytes.Length:N0} bytes) is not an image that can be decoded; send a PNG or JPEG image."));
        }

        using (image)
            return Results.Ok(r.Recognize(image));
    }
    finally
    {
        r.DecodeSlots.Release();
    }
});

app.Lifetime.ApplicationStarted.Register(() =>
{
    var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
    Console.WriteLine($"WebDemo: model '{recognizer.ModelName}' with {recognizer.ClassNames.Count} classes");
    foreach (string address in addresses)
        Console.WriteLine($"WebDemo listening on {address}");
});

// A graceful stop (Ctrl-C, SIGTERM) disposes the model, so ML.NET's temporary copies of its networks are deleted.
app.Lifetime.ApplicationStopped.Register(recognizer.Dispose);
app.Run();
return 0;

internal sealed record ModelInfo(string Model, IReadOnlyList<string> Classes);

internal sealed record ErrorReply(string Error);
