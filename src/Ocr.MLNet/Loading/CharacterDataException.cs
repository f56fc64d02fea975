
namespace Ocr.MLNet.Loading;

/// <summary>
/// Data given to one of this library's loaders is not what it should be: a damaged or non-image file, an empty
/// class folder, a folder name that carries no known class, a malformed EMNIST file. The message names the file
/// (or folder) and the fix; <see cref="FilePath"/> carries the path for code.
/// </summary>
/// <remarks>
/// It derives from <see cref="IOException"/> (<see cref="InvalidDataException"/> is sealed), so one
/// <c>catch (IOException)</c> covers both missing files and bad ones. The EMNIST loader throws the derived
/// <see cref="EmnistDataException"/>, which adds a byte offset or line number.
/// </remarks>
public class CharacterDataException : IOException
{
    /// <summary>Creates an exception with a default message.</summary>
    public CharacterDataException()
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">What is wrong and how to fix it.</param>
    public CharacterDataException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and cause.</summary>
    /// <param name="message">What is wrong and how to fix it.</param>
    /// <param name="innerException">The error that revealed the problem.</param>
    public CharacterDataException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception about one file or folder.</summary>
    /// <param name="message">What is wrong and how to fix it; it should name the file or folder.</param>
    /// <param name="filePath">The file or folder at fault.</param>
    /// <param name="innerException">The error that revealed the problem, if any.</param>
    public CharacterDataException(string message, string filePath, Exception? innerException)
        : base(message, innerException)
    {
        FilePath = filePath;
    }

    /// <summary>The file (or folder) at fault, when the exception names one.</summary>
    public string? FilePath { get; }
}
