using Ocr.MLNet.Preparation;
using Ocr.MLNet.Training;

namespace Ocr.MLNet;

/// <summary>Adds <c>CharacterCnn</c> to <c>mlContext.MulticlassClassification.Trainers</c>.</summary>
public static class CharacterCnnCatalog
{
    /// <summary>
    /// The CharacterCnn network for handwritten characters (a published Keras design for NIST SD19), trained with TorchSharp. Reads a key (or string) label column and a
    /// 1×32×32 float pixel column; adds <c>Score</c>, <c>PredictedLabel</c> and <c>PredictedCharacter</c>.
    /// </summary>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.LoadImages("Image", imageFolder: null, "ImagePath")
    ///     .Append(mlContext.Transforms.PrepareCharacterImages())
    ///     .Append(mlContext.MulticlassClassification.Trainers.CharacterCnn(epochs: 4));
    /// var model = pipeline.Fit(trainingData);
    /// mlContext.Model.Save(model, trainingData.Schema, "ocr.zip");
    /// </code>
    /// </example>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">The label column (string or key).</param>
    /// <param name="featureColumnName">The 1,024-float pixel column.</param>
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

    /// <summary>The CharacterCnn network for handwritten characters, with every training option.</summary>
    /// <example>
    /// <code>
    /// var trainer = mlContext.MulticlassClassification.Trainers.CharacterCnn(new CharacterCnnTrainer.Options
    /// {
    ///     Epochs = 4,
    ///     CheckpointDirectory = "checkpoints",
    ///     Augmentation = new ImageAugmentationOptions(),
    /// });
    /// </code>
    /// </example>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="options">The trainer's options; invalid values are all reported in one exception.</param>
    public static CharacterCnnTrainer CharacterCnn(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        CharacterCnnTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new CharacterCnnTrainer(MLNetInterop.EnvironmentOf(catalog), options);
    }
}
