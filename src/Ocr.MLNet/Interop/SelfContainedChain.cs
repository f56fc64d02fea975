using Microsoft.ML.Runtime;

namespace Ocr.MLNet;

/// <summary>
/// Builds ML.NET transformer chains that hold ONNX models without leaving files behind.
/// </summary>
/// <remarks>
/// ML.NET's <c>ApplyOnnxModel</c> copies a model given as bytes to a randomly named file in
/// <see cref="MLContext.TempFilePath"/> and never deletes it, and saving re-reads that file. So the chain is fitted in
/// a private <see cref="MLContext"/> whose temporary folder is private, saved to memory, the folder deleted, and the
/// chain loaded back into the caller's context. Like every model from <c>mlContext.Model.Load</c>, the result owns its
/// temporary copy (in the caller's <see cref="MLContext.TempFilePath"/>) and deletes it when disposed or collected.
/// </remarks>
internal static class SelfContainedChain
{
    /// <summary>Fits <paramref name="estimator"/> (made in the private context) on <paramref name="input"/>'s schema and returns it loaded into <paramref name="environment"/>.</summary>
    /// <param name="environment">The environment the returned chain belongs to: its log, temporary folder and ONNX Runtime settings.</param>
    /// <param name="estimator">Makes the estimator in the private build context it is given.</param>
    /// <param name="input">Makes an empty view with the input schema in the build context.</param>
    public static ITransformer Build(IHostEnvironment environment, Func<MLContext, IEstimator<ITransformer>> estimator, Func<MLContext, IDataView> input)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return OnnxTempFileNames.RetryWhenReadAsOrtFormat(() => BuildOnce(environment, estimator, input), MLNetInterop.TempFilePath(environment));
    }

    private static ITransformer BuildOnce(IHostEnvironment environment, Func<MLContext, IEstimator<ITransformer>> estimator, Func<MLContext, IDataView> input)
    {
        string buildFolder = Path.Combine(MLNetInterop.TempFilePath(environment), $"ocr-mlnet-build-{Guid.NewGuid():N}");
        Directory.CreateDirectory(buildFolder);
        using var saved = new MemoryStream();
        bool built = false;
        try
        {
            var buildContext = new MLContext { TempFilePath = buildFolder };
            var empty = input(buildContext);
            var chain = estimator(buildContext).Fit(empty);
            try
            {
                buildContext.Model.Save(chain, empty.Schema, saved);
            }
            finally
            {
                (chain as IDisposable)?.Dispose();
            }

            built = true;
        }
        finally
        {
            DeleteBuildFolder(buildFolder, throwOnFailure: built);
        }

        saved.Position = 0;
        return MLNetInterop.ModelCatalog(environment).Load(saved, out _);
    }

    // When the build already failed, a failure to delete must not hide the original exception.
    private static void DeleteBuildFolder(string folder, bool throwOnFailure)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (!throwOnFailure && e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
