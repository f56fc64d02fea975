using Ocr.MLNet;
using static TorchSharp.torch;
using Ocr.MLNet.Training;

// The smallest use of the library: build the CharacterCnn network and classify a batch of random images.
TorchBackend.EnsureLoaded();
random.manual_seed(42);
using var network = new CharacterCnnNetwork();
network.eval();
Console.WriteLine(network.Summarize());

using var noGrad = no_grad();
using var probabilities = nn.functional.softmax(network.forward(rand(3, 1, 32, 32)), 1);
using var best = probabilities.max(1).values;
Console.WriteLine($"probabilities {string.Join("×", probabilities.shape)}; top probability per image: "
    + string.Join(", ", best.data<float>().ToArray().Select(p => p.ToString("F3", System.Globalization.CultureInfo.InvariantCulture))));
