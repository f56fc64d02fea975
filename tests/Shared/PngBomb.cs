using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Ocr.MLNet.Tests;

/// <summary>
/// A decompression bomb: a valid PNG of a few hundred bytes whose header declares a huge image (written by hand:
/// signature, IHDR with its CRC, a small IDAT of zlib-compressed zero rows, IEND). Decoding it would need
/// width × height × 4 bytes; a loader must refuse it from the header.
/// </summary>
internal static class PngBomb
{
    /// <summary>The PNG bytes of a greyscale image declaring <paramref name="width"/> × <paramref name="height"/> pixels.</summary>
    public static byte[] Make(int width, int height)
    {
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;  // bit depth
        header[9] = 0;  // greyscale; compression, filter and interlace 0
        WriteChunk(png, "IHDR", header);

        // The first few rows only (filter byte 0 + zero pixels): the rest is missing, as in a bomb that relies on the size alone.
        var rows = new MemoryStream();
        using (var zlib = new ZLibStream(rows, CompressionLevel.SmallestSize, leaveOpen: true))
            zlib.Write(new byte[Math.Min(4L * (width + 1), 1 << 16)]);
        WriteChunk(png, "IDAT", rows.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void WriteChunk(Stream png, string type, byte[] data)
    {
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
        png.Write(number);
        byte[] typeAndData = [.. Encoding.ASCII.GetBytes(type), .. data];
        png.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(number, Crc32(typeAndData));
        png.Write(number);
    }

    /// <summary>The CRC-32 of PNG chunks (ISO 3309, polynomial 0xEDB88320).</summary>
    private static uint Crc32(byte[] bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int bit = 0; bit < 8; bit++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }

        return ~crc;
    }
}
