using System.Buffers.Binary;
using SkiaSharp;

namespace Ocr.MLNet.Tests;

/// <summary>JPEGs as a phone writes them: the pixels as the sensor saw them and an EXIF Orientation saying how to turn them.</summary>
internal static class ExifJpeg
{
    /// <summary>
    /// <paramref name="upright"/> stored turned 90° anticlockwise (its top on the left) with EXIF Orientation 6, "turn 90°
    /// clockwise to view", as a phone held upright writes a portrait photo.
    /// </summary>
    public static byte[] StoredSideways(SKBitmap upright)
    {
        using var sideways = new SKBitmap(new SKImageInfo(upright.Height, upright.Width, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(sideways))
        {
            // Upright (x, y) → stored (y, W − 1 − x): the inverse of the clockwise turn a viewer applies.
            canvas.SetMatrix(new SKMatrix(0, 1, 0, -1, 0, upright.Width, 0, 0, 1));
            canvas.DrawBitmap(upright, 0, 0);
        }

        return WithOrientation(DrawnGlyphs.Jpeg(sideways), 6);
    }

    /// <summary>The JPEG with an APP1 EXIF segment holding only an Orientation tag, inserted after its start-of-image marker.</summary>
    public static byte[] WithOrientation(byte[] jpeg, ushort orientation)
    {
        if (jpeg.Length < 2 || jpeg[0] != 0xFF || jpeg[1] != 0xD8)
            throw new ArgumentException("Not a JPEG.", nameof(jpeg));
        // "Exif\0\0", a little-endian TIFF header, one IFD with one entry: tag 0x0112 (Orientation), SHORT, count 1.
        var tiff = new byte[8 + 2 + 12 + 4];
        "II"u8.CopyTo(tiff);
        BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(2), 42);
        BinaryPrimitives.WriteUInt32LittleEndian(tiff.AsSpan(4), 8);
        BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(8), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(10), 0x0112);
        BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(12), 3);
        BinaryPrimitives.WriteUInt32LittleEndian(tiff.AsSpan(14), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(18), orientation);
        byte[] payload = [.. "Exif\0\0"u8, .. tiff];
        var segment = new byte[4 + payload.Length];
        segment[0] = 0xFF;
        segment[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(payload.Length + 2));
        payload.CopyTo(segment, 4);
        return [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)];
    }
}
