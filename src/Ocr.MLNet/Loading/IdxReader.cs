using System.Buffers.Binary;
using System.IO.Compression;
using Ocr.MLNet.IO;

namespace Ocr.MLNet.Loading;

/// <summary>What an IDX file holds.</summary>
internal enum IdxKind
{
    /// <summary>Images: magic 2051 (0x00000803, unsigned bytes, 3 dimensions: count × rows × columns).</summary>
    Images,

    /// <summary>Labels: magic 2049 (0x00000801, unsigned bytes, 1 dimension: count).</summary>
    Labels,
}

/// <summary>
/// Reads one IDX file (the MNIST/EMNIST format), raw or gzip-compressed. The compression is detected from
/// the gzip magic bytes <c>1f 8b</c>, not from the file name. <see cref="Open"/> reads and checks the
/// header; <see cref="ReadItems"/> reads the items into one array. Every problem becomes an
/// <see cref="EmnistDataException"/> (or <see cref="FileNotFoundException"/>) that names the file, the
/// byte offset (of the decompressed data for gzip files) and the fix.
/// </summary>
internal sealed class IdxReader : IDisposable
{
    /// <summary>Magic number of an images file: unsigned bytes (0x08), 3 dimensions.</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic number of a labels file: unsigned bytes (0x08), 1 dimension.</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>EMNIST image side in pixels.</summary>
    public const int ImageSide = 28;

    private const int InitialCapacity = 64 << 20;
    private const string RedownloadFix = "The file is incomplete or damaged (an interrupted download or copy): get it again "
        + "(NIST's EMNIST gzip.zip) and compare its SHA-256 with the published one.";

    private readonly FileStream file;
    private readonly Stream stream;
    private long position;
    private uint? gzipTrailerSize;

    private IdxReader(string path, IdxKind kind, FileStream file, bool isGzip)
    {
        Path = path;
        Kind = kind;
        this.file = file;
        IsGzip = isGzip;
        stream = isGzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
    }

    /// <summary>Full path of the file.</summary>
    public string Path { get; }

    /// <summary>Images or labels.</summary>
    public IdxKind Kind { get; }

    /// <summary>Whether the file is gzip-compressed (detected from its first two bytes).</summary>
    public bool IsGzip { get; }

    /// <summary>Number of items the header declares.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes per item: rows × columns for images, 1 for labels.</summary>
    public int ItemSize { get; private set; }

    /// <summary>Header length in bytes: 16 for images, 8 for labels.</summary>
    public int HeaderLength => Kind == IdxKind.Images ? 16 : 8;

    /// <summary>"images file" or "labels file".</summary>
    public string Role => Kind == IdxKind.Images ? "images file" : "labels file";

    private string Noun => Kind == IdxKind.Images ? "images" : "labels";

    private string Expected => Kind == IdxKind.Images
        ? "an IDX images file (magic number 2051 = 0x00000803), e.g. emnist-bymerge-test-images-idx3-ubyte.gz"
        : "an IDX labels file (magic number 2049 = 0x00000801), e.g. emnist-bymerge-test-labels-idx1-ubyte.gz";

    /// <summary>Opens the file, detects gzip and reads and checks the header.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="EmnistDataException">The header is wrong.</exception>
    public static IdxReader Open(string path, IdxKind kind)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string fullPath = System.IO.Path.GetFullPath(path);
        string role = kind == IdxKind.Images ? "images file" : "labels file";
        if (Directory.Exists(fullPath))
        {
            throw new FileNotFoundException(
                $"The EMNIST {role} '{fullPath}' is a directory, not a file. Pass the IDX file itself, or use "
                + "LoadFromEmnist(directory, split) to find the files of a split in a directory.", fullPath);
        }

        if (!File.Exists(fullPath))
            throw new FileNotFoundException(MissingFileMessage(fullPath, role, kind), fullPath);
        // No cap on size (the files are as large as the split), but a device or a pipe is refused before it is opened.
        if (BoundedFile.Problem(fullPath, long.MaxValue, "") is string problem)
            throw new EmnistDataException($"The EMNIST {role} '{fullPath}' {problem}.", fullPath);

        var file = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        try
        {
            Span<byte> start = stackalloc byte[2];
            int got = file.ReadAtLeast(start, 2, throwOnEndOfStream: false);
            bool isGzip = got == 2 && start[0] == 0x1f && start[1] == 0x8b;
            uint? gzipSize = null;
            if (isGzip && file.Length >= 18)
            {
                // ISIZE, the last 4 bytes of a gzip member: the uncompressed length modulo 2^32.
                Span<byte> trailer = stackalloc byte[4];
                file.Position = file.Length - 4;
                file.ReadExactly(trailer);
                gzipSize = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
            }

            file.Position = 0;
            var reader = new IdxReader(fullPath, kind, file, isGzip) { gzipTrailerSize = gzipSize };
            try
            {
                reader.ReadHeader();
                return reader;
            }
            catch
            {
                reader.Dispose();
                throw;
            }
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the first <paramref name="count"/> items into one array (count × <see cref="ItemSize"/>
    /// bytes). When <paramref name="count"/> is <see cref="Count"/>, also checks that no data follows.
    /// </summary>
    /// <exception cref="EmnistDataException">The file ends early, holds more than declared, or its gzip data is damaged.</exception>
    public byte[] ReadItems(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count);
        long declaredEnd = HeaderLength + ((long)Count * ItemSize);
        if (!IsGzip && HeaderLength + ((long)count * ItemSize) > file.Length)
            throw Truncated(file.Length);

        long wanted = (long)count * ItemSize;

        // Allocate everything at once when the size is known to be real (raw: the file length was checked;
        // gzip: the trailer's uncompressed size matches the header). Otherwise a damaged header could make
        // us allocate gigabytes for a small file, so grow as data actually arrives.
        bool sizeConfirmed = !IsGzip || gzipTrailerSize == (uint)declaredEnd;
        byte[] data = new byte[sizeConfirmed ? wanted : Math.Min(wanted, InitialCapacity)];
        long filled = 0;
        while (filled < wanted)
        {
            if (filled == data.Length)
                Array.Resize(ref data, (int)Math.Min(wanted, (long)data.Length * 2));
            int read = Read(data.AsSpan((int)filled));
            if (read == 0)
                throw Truncated(position);
            filled += read;
        }

        if (count == Count)
        {
            bool more = IsGzip ? Read(stackalloc byte[1]) > 0 : file.Length > declaredEnd;
            if (more)
            {
                throw new EmnistDataException(
                    $"The EMNIST {Role} '{Path}' holds more data than its header declares: {Describe(Count)} end at "
                    + $"{OffsetText(declaredEnd)}, but the file goes on. Either the count in the header (byte offset 4) is "
                    + "wrong or other data was appended. " + RedownloadFix,
                    Path, declaredEnd);
            }
        }

        return data;
    }

    /// <summary>Describes an offset, saying when it counts decompressed bytes.</summary>
    public string OffsetText(long offset) =>
        IsGzip ? $"byte offset {offset} of the decompressed data" : $"byte offset {offset}";

    /// <inheritdoc />
    public void Dispose()
    {
        if (IsGzip)
            stream.Dispose();
        file.Dispose();
    }

    private static string MissingFileMessage(string fullPath, string role, IdxKind kind)
    {
        string example = kind == IdxKind.Images ? "emnist-bymerge-test-images-idx3-ubyte.gz" : "emnist-bymerge-test-labels-idx1-ubyte.gz";
        string hint = "";
        string alternative = fullPath.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? fullPath[..^3] : fullPath + ".gz";
        if (File.Exists(alternative))
            hint = $" '{alternative}' exists: did you mean that file?";
        else if (System.IO.Path.GetDirectoryName(fullPath) is { } directory && !Directory.Exists(directory))
            hint = $" Its directory '{directory}' does not exist either.";
        return $"The EMNIST {role} '{fullPath}' does not exist.{hint} Pass the path of an IDX {(kind == IdxKind.Images ? "images" : "labels")} file, "
            + $"raw or gzip-compressed (e.g. {example} from NIST's EMNIST gzip.zip, "
            + "https://www.nist.gov/itl/products-and-services/emnist-dataset).";
    }

    private void ReadHeader()
    {
        Span<byte> header = stackalloc byte[16];
        Span<byte> magicBytes = header[..4];
        ReadHeaderBytes(magicBytes);
        int magic = BinaryPrimitives.ReadInt32BigEndian(magicBytes);
        int expected = Kind == IdxKind.Images ? ImagesMagic : LabelsMagic;
        if (magic != expected)
            throw WrongMagic(magic, magicBytes);

        ReadHeaderBytes(header[4..HeaderLength]);
        uint count = BinaryPrimitives.ReadUInt32BigEndian(header[4..8]);
        if (Kind == IdxKind.Images)
        {
            uint rows = BinaryPrimitives.ReadUInt32BigEndian(header[8..12]);
            uint columns = BinaryPrimitives.ReadUInt32BigEndian(header[12..16]);
            if (rows != ImageSide || columns != ImageSide)
            {
                throw new EmnistDataException(
                    $"The EMNIST images file '{Path}' declares images of {rows}×{columns} pixels at {OffsetText(8)}; "
                    + $"EMNIST images are {ImageSide}×{ImageSide} (the loader pads them to 32×32). Pass an EMNIST images file.",
                    Path, 8);
            }

            ItemSize = ImageSide * ImageSide;
        }
        else
        {
            ItemSize = 1;
        }

        if (count > (uint)(Array.MaxLength / ItemSize))
        {
            throw new EmnistDataException(
                $"The EMNIST {Role} '{Path}' declares {count} {Noun} at {OffsetText(4)}, more than the loader can hold "
                + $"({Array.MaxLength / ItemSize} at most). The header is damaged or this is not an EMNIST file. " + RedownloadFix,
                Path, 4);
        }

        Count = (int)count;
    }

    private void ReadHeaderBytes(Span<byte> destination)
    {
        long start = position;
        int got = 0;
        while (got < destination.Length)
        {
            int read = Read(destination[got..]);
            if (read == 0)
            {
                throw new EmnistDataException(
                    $"The EMNIST {Role} '{Path}' is truncated: it ends at {OffsetText(start + got)}, inside its "
                    + $"{HeaderLength}-byte IDX header. Expected {Expected}. " + RedownloadFix,
                    Path, start + got);
            }

            got += read;
        }
    }

    private int Read(Span<byte> destination)
    {
        int read;
        try
        {
            read = stream.Read(destination);
        }
        catch (InvalidDataException e)
        {
            throw new EmnistDataException(
                $"The EMNIST {Role} '{Path}' starts like gzip (1f 8b) but its compressed data is damaged after "
                + $"{OffsetText(position)}: {e.Message} " + RedownloadFix,
                Path, position, innerException: e);
        }

        position += read;
        return read;
    }

    private EmnistDataException WrongMagic(int magic, ReadOnlySpan<byte> bytes)
    {
        string found = $"0x{magic:X8} ({magic})";
        string why;
        if (Kind == IdxKind.Images && magic == LabelsMagic)
        {
            why = "That is the magic number of an IDX labels file: the images and labels paths look swapped; pass the "
                + "'...-images-idx3-ubyte' file as the images file.";
        }
        else if (Kind == IdxKind.Labels && magic == ImagesMagic)
        {
            why = "That is the magic number of an IDX images file: the images and labels paths look swapped; pass the "
                + "'...-labels-idx1-ubyte' file as the labels file.";
        }
        else if (bytes[0] == (byte)'P' && bytes[1] == (byte)'K')
        {
            why = "The file is a zip archive (it starts with 'PK'), such as NIST's gzip.zip: extract it and pass the IDX file inside.";
        }
        else if (bytes[0] == 0 && bytes[1] == 0)
        {
            why = $"It is an IDX file of data type 0x{bytes[2]:X2} with {bytes[3]} dimension(s), not unsigned bytes with "
                + $"{(Kind == IdxKind.Images ? 3 : 1)} dimension(s): pass the EMNIST {Role}.";
        }
        else
        {
            why = IsGzip
                ? "The decompressed data is not IDX: pass an EMNIST IDX file."
                : "The file is neither IDX nor gzip-compressed IDX: pass an EMNIST IDX file.";
        }

        return new EmnistDataException(
            $"The EMNIST {Role} '{Path}' does not start with the right magic number: expected {Expected}, "
            + $"found {found} at {OffsetText(0)}. {why}",
            Path, 0);
    }

    private string Describe(int count) =>
        Kind == IdxKind.Images
            ? $"the declared {count} images of {ImageSide}×{ImageSide} ({(long)count * ItemSize} bytes after the {HeaderLength}-byte header)"
            : $"the declared {count} labels ({count} bytes after the {HeaderLength}-byte header)";

    private EmnistDataException Truncated(long end)
    {
        long whole = Math.Max(0, end - HeaderLength) / ItemSize;
        return new EmnistDataException(
            $"The EMNIST {Role} '{Path}' is truncated: its header (byte offset 4) declares {Count} {Noun}, "
            + $"so the data should end at {OffsetText(HeaderLength + ((long)Count * ItemSize))}, but it ends at "
            + $"{OffsetText(end)}, after {whole} whole {Noun}. " + RedownloadFix,
            Path, end);
    }
}
