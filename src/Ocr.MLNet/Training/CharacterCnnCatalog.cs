using System.Reflection;
using Microsoft.ML.Runtime;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Preparation;
using Ocr.MLNet.Training;
using Ocr.MLNet.Export;
using Ocr.MLNet.Serving;
using Ocr.MLNet.Evaluation;

namespace Ocr.MLNet;

/// <summary>Adds <c>CharacterCnn</c> to <c>mlContext.MulticlassClassification.Trainers</c>.</summary>
public static class CharacterCnnCatalog
{
    /// <summary>
    /// The seed's CNN for handwritten characters, trained with TorchSharp. Reads a string or key label
    /// column and a 1×32×32 float pixel column (or a 32×32 image column).
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">The label column (string or key).</param>
    /// <param name="featureColumnName">The 1,024-float pixel column or 32×32 image column.</param>
    /// <param name="epochs">Passes over the training data.</param>
    /// <param name="batchSize">Images per batch.</param>
    /// <param name="learningRate">Adam's learning rate.</param>
    public static CharacterCnnTrainer CharacterCnn(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = CharacterCnnTrainer.DefaultLabelColumnName,
        string featureColumnName = CharacterCnnTrainer.DefaultFeatureColumnName,
        int epochs = CharacterCnnTrainer.DefaultEpochs,
        int batchSize = CharacterCnnTrainer.DefaultBatchSize,
        double learningRate = CharacterCnnTrainer.DefaultLearningRate) =>
        catalog.CharacterCnn(new CharacterCnnTrainer.Options
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            Epochs = epochs,
            BatchSize = batchSize,
            LearningRate = learningRate,
        });

    /// <summary>The seed's CNN for handwritten characters, with every training option.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="options">The trainer's options; invalid values are all reported in one exception.</param>
    public static CharacterCnnTrainer CharacterCnn(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        CharacterCnnTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new CharacterCnnTrainer(EnvironmentOf(catalog), options);
    }

    // ML.NET keeps a catalog's environment behind an internal interface; the trainer needs it so that its
    // log messages reach mlContext.Log. Without it (a future ML.NET) training works and only the log is quiet.
    private static readonly PropertyInfo? EnvironmentProperty =
        typeof(MulticlassClassificationCatalog.MulticlassClassificationTrainers).BaseType?
            .GetProperty("Microsoft.ML.Data.IInternalCatalog.Environment", BindingFlags.Instance | BindingFlags.NonPublic);

    private static IHostEnvironment? EnvironmentOf(MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog) =>
        EnvironmentProperty?.GetValue(catalog) as IHostEnvironment;
}
