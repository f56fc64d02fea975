using System.Diagnostics;
using Microsoft.ML.Data;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using SkiaSharp;
using Ocr.MLNet.IO;

namespace Ocr.MLNet.Tests;

/// <summary>
/// The one decoding path every reader uses (<see cref="ImageFiles"/>, <c>ImageDecoder</c>, <c>BoundedFile</c>) and the one
/// blank/noise verdict (<see cref="InkCheck"/>): caps before reading, truncation refused, EXIF orientation applied,
/// transparency over white, devices and pipes refused without blocking, noise told from writing.
/// </summary>
[TestFixture]
public sealed class ImageDecodingTests : TemporaryDirectoryTest
{
    protected override string Prefix => "ocr-mlnet-decoding";

    [Test]
    public void A_truncated_PNG_is_refused_as_truncated_with_the_file_named()
    {
        byte[] whole = DrawnGlyphs.BlackOnWhitePng("A");
        string half = Path.Combine(WorkDirectory, "half.png");
        File.WriteAllBytes(half, whole.AsSpan(0, whole.Length / 2).ToArray());
        var e = Assert.Throws<CharacterDataException>(() => ImageFiles.Load(half).Dispose());
        Assert.That(e!.Message, Does.Contain(half).And.Contain("truncated"));

        using var decoded = ImageFiles.Decode(whole, "the upload");
        Assert.That((decoded.Width, decoded.Height), Is.EqualTo((128, 128)), "the whole file decodes");
    }

    [Test]
    public void A_JPEG_stored_sideways_with_EXIF_orientation_6_comes_back_upright()
    {
        // A tall, asymmetric mark: a bar along the top of a 60×100 image, whose ink must come back at the top.
        using var upright = new SKBitmap(new SKImageInfo(60, 100, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(upright))
        {
            canvas.Clear(SKColors.White);
            using var paint = new SKPaint { Color = SKColors.Black };
            canvas.DrawRect(5, 5, 50, 15, paint);
        }

        string path = Path.Combine(WorkDirectory, "phone.jpg");
        File.WriteAllBytes(path, ExifJpeg.StoredSideways(upright));
        using (var codec = SKCodec.Create(path))
            Assert.That((codec.Info.Width, codec.Info.Height, codec.EncodedOrigin), Is.EqualTo((100, 60, SKEncodedOrigin.RightTop)), "stored sideways");

        using var image = ImageFiles.Load(path);
        var grey = CharacterImageConverter.RgbaToGrey(image.Pixels, image.Width, image.Height, image.Width * 4, bgra: true);
        double Mean(int x0, int y0, int x1, int y1) =>
            Enumerable.Range(y0, y1 - y0).SelectMany(y => Enumerable.Range(x0, x1 - x0).Select(x => (double)grey[y * image.Width + x])).Average();
        Assert.Multiple(() =>
        {
            Assert.That((image.Width, image.Height), Is.EqualTo((60, 100)), "width and height as seen upright");
            Assert.That(Mean(10, 8, 50, 14), Is.LessThan(60), "the bar is at the top, as drawn");
            Assert.That(Mean(10, 86, 50, 92), Is.GreaterThan(200), "the bottom is paper");
        });
    }

    [Test]
    public void Transparency_is_composited_over_white()
    {
        using var canvasDrawing = new SKBitmap(new SKImageInfo(64, 64, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(canvasDrawing))
        {
            canvas.Clear(SKColors.Transparent);
            using var paint = new SKPaint { Color = SKColors.Black, StrokeWidth = 6 };
            canvas.DrawLine(10, 32, 54, 32, paint);
        }

        using var image = ImageFiles.Decode(DrawnGlyphs.Png(canvasDrawing), "a canvas drawing");
        byte[] pixels = image.Pixels.ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(image.PixelFormat, Is.EqualTo(MLPixelFormat.Bgra32));
            Assert.That(pixels[..4], Is.EqualTo(new byte[] { 255, 255, 255, 255 }), "a transparent corner is white paper");
            Assert.That(pixels[((32 * 64 + 32) * 4)..((32 * 64 + 32) * 4 + 4)], Is.EqualTo(new byte[] { 0, 0, 0, 255 }), "the stroke is black ink");
            Assert.That(InkCheck.Inspect(image), Is.EqualTo(ImageContent.Writing));
        });
    }

    [TestCase("/dev/zero")]
    [TestCase("link")]
    [TestCase("fifo")]
    public void Devices_links_to_devices_and_pipes_are_refused_at_once_without_reading(string which)
    {
        string path = which switch
        {
            "link" => Path.Combine(WorkDirectory, "zero.png"),
            "fifo" => Path.Combine(WorkDirectory, "pipe.png"),
            _ => which,
        };
        if (which == "link")
            File.CreateSymbolicLink(path, "/dev/zero");
        if (which == "fifo")
            MakeFifo(path);

        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<CharacterDataException>(() => ImageFiles.Load(path).Dispose());
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.Contain(path).And.Contain("not a regular file"));
            Assert.That(() => ImageHeader.Check(path), Throws.InstanceOf<CharacterDataException>().With.Message.Contain("not a regular file"),
                "the header-only guard refuses it too, without opening it");
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)), "refused from its size, never opened");
        });
    }

    [Test]
    public void A_file_over_the_cap_is_refused_before_reading_with_the_cap_named()
    {
        // A sparse file: its size is past the cap for 1,000 pixels (4 bytes a pixel and 1 MiB) without using the disk.
        string path = Path.Combine(WorkDirectory, "huge.png");
        using (var file = File.Create(path))
        {
            file.Write(DrawnGlyphs.BlackOnWhitePng("A"));
            file.SetLength(8L * 1024 * 1024 * 1024);
        }

        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<CharacterDataException>(() => ImageFiles.Load(path, maxPixels: 1_000).Dispose());
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.Contain(path).And.Contain("8.0 GiB").And.Contain("1.0 MiB cap"));
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)), "refused from its size, never read");
        });
    }

    [Test]
    public void Blank_and_noise_are_told_from_writing()
    {
        var random = new Random(3);
        byte[] Fill(int count, Func<int, byte> pixel) => Enumerable.Range(0, count).Select(pixel).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(InkCheck.Inspect(Fill(200 * 80, _ => 255), 200, 80), Is.EqualTo(ImageContent.Blank), "white");
            Assert.That(InkCheck.Inspect(Fill(200 * 80, _ => 0), 200, 80), Is.EqualTo(ImageContent.Blank), "black");
            Assert.That(InkCheck.Inspect(Fill(200 * 80, _ => (byte)random.Next(225, 250)), 200, 80), Is.EqualTo(ImageContent.Blank), "paper grain");
            foreach (double share in new[] { 0.02, 0.1, 0.3, 0.5 })
            {
                Assert.That(InkCheck.Inspect(Fill(400 * 100, _ => random.NextDouble() < share ? (byte)0 : (byte)255), 400, 100),
                    Is.EqualTo(ImageContent.Noise), $"random black and white, {share:P0} black");
            }

            Assert.That(InkCheck.Inspect(Fill(400 * 100, _ => (byte)random.Next(256)), 400, 100), Is.EqualTo(ImageContent.Noise), "uniform grey noise");
            foreach (string label in new[] { "A", "a", "7", "X" })
            {
                using var glyph = DrawnGlyphs.Draw(label, SKColors.Black, SKColors.White);
                Assert.That(InkCheck.Inspect(CharacterImageConverter.ToGrey(glyph), 128, 128), Is.EqualTo(ImageContent.Writing), $"drawn {label}");
                using var inverted = DrawnGlyphs.Draw(label, SKColors.White, SKColors.Black, size: 28);
                Assert.That(InkCheck.Inspect(CharacterImageConverter.ToGrey(inverted), 28, 28), Is.EqualTo(ImageContent.Writing), $"{label} light on dark, EMNIST's size");
            }
        });
    }

    [Test]
    public void A_save_sweeps_the_temporary_files_a_killed_save_of_the_same_file_left()
    {
        string target = Path.Combine(WorkDirectory, "model.zip");
        string abandoned = Path.Combine(WorkDirectory, $".model.zip.{Guid.NewGuid():N}.tmp");
        string recent = Path.Combine(WorkDirectory, $".model.zip.{Guid.NewGuid():N}.tmp");
        string unrelated = Path.Combine(WorkDirectory, $".other.zip.{Guid.NewGuid():N}.tmp");
        foreach (string file in new[] { abandoned, recent, unrelated })
            File.WriteAllText(file, "partial");
        File.SetLastWriteTimeUtc(abandoned, DateTime.UtcNow - AtomicFile.AbandonedAfter - TimeSpan.FromMinutes(1));
        File.SetLastWriteTimeUtc(unrelated, DateTime.UtcNow - TimeSpan.FromDays(1));

        AtomicFile.Write(target, temporary => File.WriteAllText(temporary, "whole"));
        Assert.Multiple(() =>
        {
            Assert.That(File.ReadAllText(target), Is.EqualTo("whole"));
            Assert.That(File.Exists(abandoned), Is.False, "a leftover untouched for longer than a save takes is swept");
            Assert.That(File.Exists(recent), Is.True, "a recent one may belong to a save still running");
            Assert.That(File.Exists(unrelated), Is.True, "another file's leftovers are that file's saves' business");
        });
    }

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        mkfifo.WaitForExit();
        Assert.That(mkfifo.ExitCode, Is.Zero, "mkfifo");
    }
}
