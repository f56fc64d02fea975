using Ocr.MLNet.Evaluation;
using Ocr.MLNet.Fields;
using Ocr.MLNet.Loading;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.IntegrationTests;

/// <summary>
/// Mutations of real field images (names and cheque amounts from <c>../shared/data</c>) through the field reader with the
/// packaged models: each is read or refused with a <see cref="CharacterDataException"/> naming the file, none slower than a second.
/// </summary>
[TestFixture]
[Category("Integration")]
[Category("RealData")]
public sealed class FieldFuzzTests : TemporaryDirectoryTest
{
    private static readonly TimeSpan PerInput = TimeSpan.FromSeconds(1);

    protected override string Prefix => "ocr-mlnet-field-fuzz";

    [TestCase("names-dev", FieldKind.Upper)]
    [TestCase("cheque-amounts-dev", FieldKind.Digits)]
    public void Mutated_field_images_are_read_or_refused_naming_the_file_each_within_a_second(string set, FieldKind kind)
    {
        string images = Path.Combine(TestEnvironment.RealData(Path.Combine("handwritten-fields", set)), "images");
        var originals = Directory.EnumerateFiles(images).Order(StringComparer.Ordinal).Take(4).Select(File.ReadAllBytes).ToList();
        using var reader = HandwrittenFieldReader.LoadPretrained();
        // Warm both models, so the first input's time is the reading's, not the loading's.
        reader.Read(Directory.EnumerateFiles(images).Order(StringComparer.Ordinal).First(), kind);

        int index = 0;
        var outcomes = Fuzzer.Run(originals, seed: 41, count: 90, PerInput, bytes =>
        {
            string path = Path.Combine(WorkDirectory, $"field-{Interlocked.Increment(ref index)}{Path.GetExtension(Directory.EnumerateFiles(images).First())}");
            File.WriteAllBytes(path, bytes);
            try
            {
                reader.Read(path, kind);
            }
            catch (CharacterDataException e) when (!e.Message.Contains(path, StringComparison.Ordinal))
            {
                throw new AssertionException($"The refusal does not name '{path}': {e.Message}");
            }
        }, (e, _) => e is CharacterDataException);
        Fuzzer.Report($"{set} images → HandwrittenFieldReader.Read", outcomes);
        Assert.That(outcomes.Loaded, Is.GreaterThan(0), "some mutations still decode and are read");
    }

    [TestCase("names-dev", "labels.tsv")]
    [TestCase("cheque-amounts-dev", "labels.tsv")]
    [TestCase("nist-hsf-page", "reference.tsv")]
    public void Mutated_truth_files_load_or_are_refused_naming_the_file_each_within_a_second(string set, string file)
    {
        byte[] original = File.ReadAllBytes(Path.Combine(TestEnvironment.RealData(Path.Combine("handwritten-fields", set)), file));
        string target = Path.Combine(WorkDirectory, file);
        // The page a reference names is the one image beside it.
        if (file == FieldEvaluation.FormReferenceFileName)
            File.Copy(Path.Combine(TestEnvironment.RealData(Path.Combine("handwritten-fields", set)), "hsf.png"), Path.Combine(WorkDirectory, "hsf.png"));
        Action<string> load = file == FieldEvaluation.FormReferenceFileName
            ? folder => FieldEvaluation.LoadFormReference(folder)
            : folder => FieldEvaluation.LoadLabels(folder);
        var outcomes = Fuzzer.Run([original], seed: 51, count: 120, PerInput, bytes =>
        {
            File.WriteAllBytes(target, bytes);
            load(WorkDirectory);
        }, (e, _) => e is CharacterDataException && e.Message.Contains(target, StringComparison.Ordinal));
        Fuzzer.Report($"{set}/{file} → {(file == FieldEvaluation.FormReferenceFileName ? "LoadFormReference" : "LoadLabels")}", outcomes);
    }
}
