using static TorchSharp.torch;

namespace Ocr.MLNet.Training;

/// <summary>A network whose BatchNorm statistics can be recomputed from training inputs (<see cref="BatchNormRecalibration"/>).</summary>
internal interface IRecalibratesBatchNorm
{
    /// <summary>Replaces every BatchNorm layer's moving mean and variance by their exact averages over <paramref name="inputs"/>.</summary>
    /// <param name="inputs">Training inputs as the network's training batches hold them, on its device.</param>
    /// <param name="batchSize">Inputs per forward pass (at least 2).</param>
    void RecalibrateBatchNorm(Tensor inputs, int batchSize);
}

/// <summary>The one recomputation of BatchNorm statistics, shared by the character and line networks.</summary>
internal static class BatchNormStatistics
{
    /// <summary>
    /// Replaces every BatchNorm layer's moving mean and variance in <paramref name="network"/> by their exact averages over
    /// <paramref name="inputs"/>: the statistics are reset, then accumulated as a cumulative average (PyTorch's
    /// <c>momentum = None</c>) over batches of <paramref name="batchSize"/> that <paramref name="forward"/> runs with dropout
    /// off, as inference will see the layers' inputs. Weights are not changed; the network is left in evaluation mode.
    /// </summary>
    public static void Recompute(nn.Module network, Tensor inputs, int batchSize, Action<Tensor> forward)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 2);
        var norms = network.modules().OfType<TorchSharp.Modules.BatchNorm2d>().ToList();
        var momenta = norms.Select(n => n.momentum).ToList();
        network.eval();
        try
        {
            foreach (var norm in norms)
            {
                norm.reset_running_stats();
                norm.momentum = null;
                norm.train();
            }

            using var noGrad = no_grad();
            long count = inputs.shape[0];
            for (long start = 0; start < count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                long length = Math.Min(batchSize, count - start);
                if (length < 2 && start > 0)
                    break; // a one-input batch has no variance; the earlier batches already cover the data
                forward(inputs.narrow(0, start, length));
            }
        }
        finally
        {
            for (int i = 0; i < norms.Count; i++)
                norms[i].momentum = momenta[i];
            network.eval();
        }
    }
}
