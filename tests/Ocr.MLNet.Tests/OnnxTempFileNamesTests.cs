using Microsoft.ML.OnnxRuntime;
using Ocr.MLNet.Preparation;

namespace Ocr.MLNet.Tests;

/// <summary>
/// ML.NET copies ONNX models to randomly named temporary files, and ONNX Runtime reads a file whose name ends in ".ort" as
/// its own ORT format: <see cref="OnnxTempFileNames"/> tries again when that, and only that, is why a load failed.
/// </summary>
[TestFixture]
public sealed class OnnxTempFileNamesTests
{
    [Test]
    public void An_onnx_file_named_like_an_ort_model_fails_as_ML_NET_copies_can_and_a_second_attempt_loads()
    {
        string folder = TestEnvironment.CreateTemporaryDirectory("ocr-mlnet-ort-name");
        try
        {
            byte[] graph = CharacterPreprocessingGraph.Build();
            string[] paths = [Path.Combine(folder, "k2x0ab3q.ort"), Path.Combine(folder, "k2x0ab3q.onnx")];
            foreach (string path in paths)
                File.WriteAllBytes(path, graph);

            var misread = Assert.Throws<OnnxRuntimeException>(() => new InferenceSession(paths[0]).Dispose());
            Assert.That(OnnxTempFileNames.IsReadAsOrtFormat(new InvalidOperationException("Error during class instantiation", misread)), Is.True,
                $"ONNX Runtime's message, wrapped as ML.NET wraps it: {misread!.Message}");

            // An older file of the same shape is not the refused copy and stays; the refused one is deleted, as ML.NET leaves it.
            string older = Path.Combine(folder, "zzzzzzzz.ort");
            File.WriteAllBytes(older, graph);
            File.SetLastWriteTimeUtc(older, DateTime.UtcNow.AddHours(-1));
            int attempts = 0;
            using var session = OnnxTempFileNames.RetryWhenReadAsOrtFormat(() =>
            {
                if (attempts++ == 0)
                    File.WriteAllBytes(paths[0], graph); // written during the attempt, as ML.NET writes its copy
                return new InferenceSession(paths[attempts - 1]);
            }, folder);
            Assert.That(attempts, Is.EqualTo(2));
            Assert.That(session.InputMetadata.Keys, Is.EqualTo(new[] { CharacterPreprocessingGraph.InputColumnName }));
            Assert.That(File.Exists(paths[0]), Is.False, "the refused copy is deleted");
            Assert.That(File.Exists(older), Is.True, "a file written before the attempt is left alone");

            attempts = 0;
            Assert.Throws<OnnxRuntimeException>(() => OnnxTempFileNames.RetryWhenReadAsOrtFormat(() => { attempts++; return new InferenceSession(older); }, folder));
            Assert.That(attempts, Is.EqualTo(3), "three attempts, then the error");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void Other_load_errors_are_not_retried()
    {
        int attempts = 0;
        Assert.Throws<InvalidOperationException>(() => OnnxTempFileNames.RetryWhenReadAsOrtFormat<object>(() =>
        {
            attempts++;
            throw new InvalidOperationException("Error during class instantiation", new FileNotFoundException("model.onnx"));
        }, Path.GetTempPath()));
        Assert.That(attempts, Is.EqualTo(1));
    }
}
