using TorchSharp;
using static TorchSharp.torch;

namespace Ocr.MLNet.Preparation;

/// <summary>
/// Random rotation, shift, zoom, shear and elastic distortion of a batch of images, done on TorchSharp tensors:
/// one affine matrix per image (<c>affine_grid</c>), optionally plus a Gaussian-smoothed random displacement field,
/// then one bilinear <c>grid_sample</c> with zero padding. Deterministic for a given generator state.
/// </summary>
/// <remarks>
/// Coordinates follow the image on screen: x to the right, y down; a positive angle turns the character
/// counter-clockwise, a positive shift moves it right and down, a zoom factor above 1 enlarges it. Every call draws
/// five numbers per image (angle, shift x, shift y, zoom, shear), then, with elastic distortion on, a 2×32×32 field
/// per image, so the random stream does not depend on which ranges are 0.
/// </remarks>
internal sealed class ImageAugmenter
{
    private readonly ImageAugmentationOptions options;

    /// <summary>Creates an augmenter with a validated copy of <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range (the message lists every invalid value).</exception>
    public ImageAugmenter(ImageAugmentationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.options = options.Clone();
    }

    /// <summary>A copy of the options this augmenter uses.</summary>
    public ImageAugmentationOptions Options => options.Clone();

    /// <summary>
    /// Returns a randomly perturbed copy of <paramref name="images"/> (float, [B, C, H, W]), drawing from
    /// <paramref name="generator"/>, or from libtorch's default generator of the images' device when it is null
    /// (seed that one with <c>torch.random.manual_seed</c>). The input is not changed; gradients are not tracked.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not a 4-dimensional floating-point batch.</exception>
    public Tensor Augment(Tensor images, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4 || !images.is_floating_point())
            throw new ArgumentException($"Expected a floating-point batch of images [B, C, H, W]; got {images.dtype} [{string.Join(", ", images.shape)}].", nameof(images));

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long batch = images.shape[0];
        var device = images.device;
        // Scalars held until the method ends: TorchSharp's operators do not keep an implicit Scalar alive during the native
        // call, so the finalizer thread could free it mid-call (a use-after-free seen once in a training run).
        using Scalar two = 2, one = 1, rotation = options.RotationDegrees, shiftX = options.ShiftFraction * images.shape[3],
            shiftY = options.ShiftFraction * images.shape[2], zoom = options.ZoomRange, shear = options.ShearDegrees, alpha = options.ElasticAlpha;
        var uniform = (rand([batch, 5], dtype: float32, device: device, generator: generator) * two) - one;
        var angles = uniform[.., 0] * rotation;
        var shiftsX = uniform[.., 1] * shiftX;
        var shiftsY = uniform[.., 2] * shiftY;
        var zooms = (uniform[.., 3] * zoom).add(one, TorchScalars.One);
        var shears = uniform[.., 4] * shear;

        Tensor? displacement = null;
        if (options.ElasticAlpha > 0)
        {
            var field = (rand([batch, 2, images.shape[2], images.shape[3]], dtype: float32, device: device, generator: generator) * two) - one;
            displacement = Smooth(field, options.ElasticSigma) * alpha;
        }

        return Warp(images, angles, shiftsX, shiftsY, zooms, shears, displacement).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Applies given per-image transforms ([B] tensors: angle and shear in degrees, shifts in pixels, zoom factor)
    /// and an optional displacement field in pixels ([B, 2, H, W]: x then y), with bilinear sampling and zero padding.
    /// </summary>
    internal static Tensor Warp(Tensor images, Tensor angleDegrees, Tensor shiftX, Tensor shiftY, Tensor zoom, Tensor shearDegrees, Tensor? displacement)
    {
        using var scope = NewDisposeScope();
        long batch = images.shape[0], height = images.shape[2], width = images.shape[3];
        var dtype = images.dtype;
        double aspect = width / (double)height;
        // Held until the method ends, as in Augment.
        using Scalar radians = Math.PI / 180, aspectScalar = aspect, toNormalisedX = 2.0 / width, toNormalisedY = 2.0 / height;
        var angle = angleDegrees.to(dtype) * radians;
        var cos = angle.cos();
        var sin = angle.sin();
        var shear = (shearDegrees.to(dtype) * radians).tan();
        var inverseZoom = zoom.to(dtype).reciprocal();

        // Forward map (normalised coordinates, y down): p' = s·R·Sh·p + t with R = [[cos, sin], [-sin, cos]]
        // (counter-clockwise on screen) and Sh = [[1, shear], [0, 1]]; det(R·Sh) = 1. affine_grid wants the inverse.
        // The matrix is built in pixels and expressed in affine_grid's normalised coordinates, whose axes are scaled by the
        // width and the height: on a wide line image (256×32) a shear or rotation taken in normalised units would be eight
        // times steeper in pixels. On a square image the two are the same.
        var a11 = (cos - (sin * shear)) * inverseZoom;
        var a12 = -(cos * shear).add(sin, TorchScalars.One) * inverseZoom / aspectScalar;
        var a21 = sin * inverseZoom * aspectScalar;
        var a22 = cos * inverseZoom;
        var tx = shiftX.to(dtype) * toNormalisedX;
        var ty = shiftY.to(dtype) * toNormalisedY;
        // add(…, One) rather than +: see TorchScalars.
        var b1 = -(a11 * tx).add(a12 * ty, TorchScalars.One);
        var b2 = -(a21 * tx).add(a22 * ty, TorchScalars.One);
        var theta = stack([a11, a12, b1, a21, a22, b2], 1).reshape(batch, 2, 3);

        var grid = nn.functional.affine_grid(theta, [batch, images.shape[1], height, width], align_corners: false);
        if (displacement is not null)
        {
            var scale = tensor(new[] { 2f / width, 2f / height }, device: images.device).to(dtype);
            grid = grid.add(displacement.to(dtype).permute(0, 2, 3, 1) * scale, TorchScalars.One);
        }

        return nn.functional.grid_sample(images, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false)
            .MoveToOuterDisposeScope();
    }

    /// <summary>Smooths each channel of [B, C, H, W] with a normalised Gaussian of <paramref name="sigma"/> pixels (separable conv2d, zero padding).</summary>
    internal static Tensor Smooth(Tensor field, double sigma)
    {
        using var scope = NewDisposeScope();
        int radius = Math.Max(1, (int)Math.Ceiling(3 * sigma));
        var weights = new float[(2 * radius) + 1];
        for (int i = -radius; i <= radius; i++)
            weights[i + radius] = (float)Math.Exp(-(i * i) / (2 * sigma * sigma));
        float sum = weights.Sum();
        for (int i = 0; i < weights.Length; i++)
            weights[i] /= sum;

        long channels = field.shape[1];
        var kernel = tensor(weights, device: field.device).to(field.dtype);
        var vertical = kernel.reshape(1, 1, weights.Length, 1).expand(channels, 1, weights.Length, 1);
        var horizontal = kernel.reshape(1, 1, 1, weights.Length).expand(channels, 1, 1, weights.Length);
        var smoothed = nn.functional.conv2d(field, vertical, padding: [radius, 0], groups: channels);
        smoothed = nn.functional.conv2d(smoothed, horizontal, padding: [0, radius], groups: channels);
        return smoothed.MoveToOuterDisposeScope();
    }
}
