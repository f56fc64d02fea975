using System.Runtime.ExceptionServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Ocr.MLNet.Training;

/// <summary>
/// Data parallelism over the CPU's cores inside one process: copies of the network train side by side, each on its own
/// thread with one libtorch thread, each on its shard of every batch; their gradients are summed into the first copy (the
/// network the optimizer steps), whose weights and BatchNorm statistics are then copied back to the others. This is what
/// DistributedDataParallel does across processes (each shard normalises with its own batch statistics, rank 0's buffers
/// are broadcast), without the processes. The seed network's layers scale poorly over threads (on 2 cores a second thread
/// on one copy bought 1.1–1.25×) and each of their barriers stalls when another job takes a core; independent replicas
/// do not synchronise inside a layer.
/// </summary>
/// <remarks>
/// Dropout and augmentation draw from one generator per replica, reseeded every epoch from the run's seed, so a run is
/// reproducible and a resumed run matches an uninterrupted one. With one replica nothing runs on another thread and the
/// network keeps libtorch's default generator, as the single-network loop always did.
/// </remarks>
internal sealed class DataParallelReplicas : IDisposable
{
    /// <summary>The fewest images a replica's shard should hold: BatchNorm's batch statistics get noisy below this.</summary>
    public const int MinimumShard = 32;

    private readonly CharacterCnnNetwork[] networks;
    private readonly Generator[] generators;
    private readonly List<(Tensor Master, Tensor Replica)>[] parameterPairs;
    private readonly List<(Tensor Master, Tensor Replica)>[] statePairs;
    private readonly Worker[] workers;

    /// <param name="master">The network the optimizer steps; replica 0.</param>
    /// <param name="count">Replicas in all, the master included.</param>
    /// <param name="device">Where the copies live.</param>
    public DataParallelReplicas(CharacterCnnNetwork master, int count, Device device)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        networks = new CharacterCnnNetwork[count];
        networks[0] = master;
        generators = count == 1 ? [] : Enumerable.Range(0, count).Select(_ => new Generator(0, device)).ToArray();
        parameterPairs = new List<(Tensor, Tensor)>[count];
        statePairs = new List<(Tensor, Tensor)>[count];
        if (count > 1)
            master.DropoutGenerator = generators[0];
        var masterParameters = master.parameters().ToList();
        var masterState = master.state_dict();
        for (int i = 1; i < count; i++)
        {
            var replica = new CharacterCnnNetwork(master.ClassCount, master.DropoutRate, master.BatchNormMomentum)
            {
                ComputeType = master.ComputeType,
                ChannelsLast = master.ChannelsLast,
                DropoutGenerator = generators[i],
            };
            replica.to(device);
            networks[i] = replica;
            parameterPairs[i] = masterParameters.Zip(replica.parameters(), (m, r) => ((Tensor)m, (Tensor)r)).ToList();
            var replicaState = replica.state_dict();
            statePairs[i] = masterState.Select(entry => (entry.Value, replicaState[entry.Key])).ToList();
        }

        workers = Enumerable.Range(1, count - 1).Select(i => new Worker(i)).ToArray();
    }

    /// <summary>Replicas in all, the master included.</summary>
    public int Count => networks.Length;

    /// <summary>
    /// The replicas a batch is split over for a given core count and batch size: one per
    /// core, as long as every shard of a full batch keeps <see cref="MinimumShard"/> images, and one on a GPU.
    /// </summary>
    public static int ReplicasFor(int cores, int batchSize, bool onCpu) =>
        onCpu ? Math.Max(1, Math.Min(cores, batchSize / MinimumShard)) : 1;

    /// <summary>Replica <paramref name="index"/>'s network.</summary>
    public CharacterCnnNetwork Network(int index) => networks[index];

    /// <summary>Replica <paramref name="index"/>'s generator for dropout and augmentation, or null with one replica (libtorch's default).</summary>
    public Generator? Generator(int index) => generators.Length == 0 ? null : generators[index];

    /// <summary>Reseeds every replica's generator for an epoch, from the epoch's seed.</summary>
    public void SeedEpoch(long epochSeed)
    {
        for (int i = 0; i < generators.Length; i++)
            generators[i].manual_seed((epochSeed * 7919) + i);
    }

    /// <summary>Copies the master's weights and BatchNorm statistics into every other replica.</summary>
    public void Broadcast()
    {
        using var noGrad = no_grad();
        for (int i = 1; i < networks.Length; i++)
        {
            foreach (var (master, replica) in statePairs[i])
                replica.copy_(master);
        }
    }

    /// <summary>Adds every other replica's gradients to the master's, so the master holds the whole batch's gradient.</summary>
    public void GatherGradients()
    {
        using var noGrad = no_grad();
        for (int i = 1; i < networks.Length; i++)
        {
            foreach (var (master, replica) in parameterPairs[i])
            {
                if (replica.grad is { } gradient)
                    master.grad!.add_(gradient, TorchScalars.One); // not add_(gradient): see TorchScalars
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> for replicas <c>0 … active − 1</c> side by side: replica 0 on the calling thread,
    /// the others on their own threads, each with one libtorch thread; returns when all are done and rethrows the first
    /// failure (cancellation included).
    /// </summary>
    public void Run(int active, Action<int> work)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(active, Count);
        for (int i = 1; i < active; i++)
            workers[i - 1].Start(work);
        Exception? failure = null;
        try
        {
            work(0);
        }
        catch (Exception exception)
        {
            failure = exception;
        }

        for (int i = 1; i < active; i++)
            failure ??= workers[i - 1].Wait();
        if (failure is not null)
            ExceptionDispatchInfo.Capture(failure).Throw();
    }

    public void Dispose()
    {
        foreach (var worker in workers)
            worker.Dispose();
        for (int i = 1; i < networks.Length; i++)
            networks[i].Dispose();
        if (networks.Length > 1)
            networks[0].DropoutGenerator = null;
        foreach (var generator in generators)
            generator.Dispose();
    }

    /// <summary>One long-lived thread: libtorch keeps per-thread state (its OpenMP thread count, oneDNN's caches) warm across batches.</summary>
    private sealed class Worker : IDisposable
    {
        private readonly int index;
        private readonly Thread thread;
        private readonly SemaphoreSlim start = new(0);
        private readonly SemaphoreSlim done = new(0);
        private Action<int>? work;
        private Exception? failure;
        private volatile bool stopping;

        public Worker(int index)
        {
            this.index = index;
            thread = new Thread(Loop) { IsBackground = true, Name = $"Ocr.MLNet replica {index}" };
            thread.Start();
        }

        public void Start(Action<int> next)
        {
            work = next;
            failure = null;
            start.Release();
        }

        public Exception? Wait()
        {
            done.Wait();
            return failure;
        }

        private void Loop()
        {
            while (true)
            {
                start.Wait();
                if (stopping)
                    return;
                try
                {
                    // Checked every batch: set_num_threads may be process-wide in libtorch, and the caller restores its own count between epochs.
                    if (get_num_threads() != 1)
                        set_num_threads(1);
                    work!(index);
                }
                catch (Exception exception)
                {
                    failure = exception;
                }

                done.Release();
            }
        }

        public void Dispose()
        {
            stopping = true;
            start.Release();
            thread.Join();
            start.Dispose();
            done.Dispose();
        }
    }
}
