
namespace Ocr.MLNet.Loading;

/// <summary>
/// A file given to the EMNIST loader is not what it should be: a wrong magic number, truncated or
/// oversized data, counts that disagree between the images and labels files, a label the mapping
/// file lacks, or a malformed mapping line. The message names the file, the byte offset (or the line)
/// and the fix; <see cref="CharacterDataException.FilePath"/>, <see cref="ByteOffset"/> and <see cref="LineNumber"/> carry
/// the same facts for code.
/// </summary>
/// <remarks>
/// It derives from <see cref="CharacterDataException"/> and so from <see cref="IOException"/>, so one
/// <c>catch (IOException)</c> covers both missing files and bad ones.
/// For a gzip-compressed IDX file the byte offset counts bytes of the <em>decompressed</em> IDX data,
/// as the message says. A missing file is reported as <see cref="FileNotFoundException"/> or
/// <see cref="DirectoryNotFoundException"/> instead.
/// </remarks>
public class EmnistDataException : CharacterDataException
{
    /// <summary>Creates an exception with a default message.</summary>
    public EmnistDataException()
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">What is wrong and how to fix it.</param>
    public EmnistDataException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and cause.</summary>
    /// <param name="message">What is wrong and how to fix it.</param>
    /// <param name="innerException">The error that revealed the problem.</param>
    public EmnistDataException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception about one place in one file.</summary>
    /// <param name="message">What is wrong and how to fix it; it should name the file and the place.</param>
    /// <param name="filePath">The file at fault.</param>
    /// <param name="byteOffset">Byte offset of the fault (of the decompressed data for gzip files), if one applies.</param>
    /// <param name="lineNumber">1-based line number of the fault in a text file, if one applies.</param>
    /// <param name="innerException">The error that revealed the problem, if any.</param>
    public EmnistDataException(string message, string filePath, long? byteOffset = null, int? lineNumber = null,
        Exception? innerException = null)
        : base(message, filePath, innerException)
    {
        ByteOffset = byteOffset;
        LineNumber = lineNumber;
    }

    /// <summary>
    /// Byte offset of the fault in <see cref="CharacterDataException.FilePath"/>; for a gzip-compressed file, an offset into the
    /// decompressed IDX data. <see langword="null"/> when no single offset applies.
    /// </summary>
    public long? ByteOffset { get; }

    /// <summary>1-based line number of the fault in a text file (the mapping file), when one applies.</summary>
    public int? LineNumber { get; }
}
