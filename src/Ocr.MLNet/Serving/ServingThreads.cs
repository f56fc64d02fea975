namespace Ocr.MLNet.Serving;

/// <summary>
/// The one thread policy of every ONNX Runtime session Ocr.MLNet opens: a session gets the threads one of its calls can use.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><description>Sessions called once per image or field (the ML.NET chain behind a <c>PredictionEngine</c>,
/// <c>LoadCharacterModel</c>, <c>LoadLineModel</c>, and the field reader's models) get <see cref="PerImage"/>, one intra-op
/// thread: a single image's graph is many small steps that lose more to sharing between threads than they gain, and calls
/// made side by side (a pool of engines, fields read in parallel) each get a core.</description></item>
/// <item><description>Sessions handed whole batches (<see cref="CharacterRecognizer"/>, <c>LineRecognizer</c>) get one per
/// processor, or the count asked for (<see cref="ForBatches"/>): one call has work for every core.</description></item>
/// </list>
/// A context that sets its own ONNX session options (<c>mlContext.SetOnnxSessionOption</c>) keeps them for the chain.
/// </remarks>
internal static class ServingThreads
{
    /// <summary>Intra-op threads of a session called once per image or field.</summary>
    public const int PerImage = 1;

    /// <summary>Intra-op threads of a session handed batches: <paramref name="requested"/> when positive, else one per processor.</summary>
    public static int ForBatches(int requested) => requested > 0 ? requested : Environment.ProcessorCount;
}
