using OpenCvSharp;
using Ocr.MLNet.Lines;

namespace Ocr.MLNet.Tests;

/// <summary>Glyphs drawn with OpenCV's Hershey font, 32×32, ink 1 on 0, a little different each time.</summary>
internal sealed class DrawnCharacters(string characters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") : ICharacterSource
{
    public bool Contains(char character) => characters.Contains(character);

    public void CopyGlyph(char character, Random random, Span<float> destination)
    {
        if (!Contains(character))
            throw new ArgumentException($"No glyph of '{character}'.", nameof(character));
        var pixels = new byte[32 * 32];
        using (var image = Mat.FromPixelData(32, 32, MatType.CV_8UC1, pixels))
        {
            Cv2.PutText(image, character.ToString(), new Point(6 + random.Next(3), 26), HersheyFonts.HersheySimplex, 0.8, Scalar.All(255), 2 + random.Next(2), LineTypes.AntiAlias);
        }

        for (int i = 0; i < pixels.Length; i++)
            destination[i] = pixels[i] / 255f;
    }
}
