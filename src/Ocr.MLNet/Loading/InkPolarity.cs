
namespace Ocr.MLNet.Loading;

/// <summary>Which way round the ink of a source image is, for <see cref="CharacterImageConverter"/>.</summary>
public enum InkPolarity
{
    /// <summary>
    /// Decide per image from the mean of its border pixels: a light border (mean above half) means dark ink on a
    /// light background (NIST SD19, scans, paper), a dark border means light ink on dark (EMNIST).
    /// </summary>
    Detect = 0,

    /// <summary>Dark ink on a light background, like the NIST SD19 PNGs (black on white): the image is inverted.</summary>
    DarkOnLight = 1,

    /// <summary>Light ink on a dark background, like EMNIST (255 on 0): the image is used as it is.</summary>
    LightOnDark = 2,
}
