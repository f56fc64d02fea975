using System.Reflection;
using Microsoft.ML.Runtime;

namespace Ocr.MLNet;

/// <summary>
/// The ML.NET 5 members a third-party estimator needs but ML.NET keeps internal. All of Ocr.MLNet's reflection is in
/// this file; the package pins ML.NET's version, and each member is resolved once, failing with a message that names it.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><description><c>SchemaShape.Create(DataViewSchema)</c>: ML.NET's conversion of a schema to the shape estimators exchange
/// (the public <c>SchemaShape.Column</c> has no public constructor).</description></item>
/// <item><description><c>IInternalCatalog.Environment</c>: the environment behind <c>mlContext.Transforms</c>, <c>mlContext.Data</c> and
/// the trainer catalogs, so that estimators log to <c>mlContext.Log</c> and honour <c>TempFilePath</c>, <c>GpuDeviceId</c> and
/// <c>FallbackToCpu</c>.</description></item>
/// <item><description><c>IHostEnvironmentInternal.TempFilePath</c>: where that environment puts temporary files.</description></item>
/// <item><description><c>IHostEnvironmentInternal.GpuDeviceId</c> and <c>FallbackToCpu</c>: the GPU that environment's ONNX models
/// run on (<see cref="MLContext.GpuDeviceId"/>), so that loading can check ONNX Runtime has a CUDA provider first.</description></item>
/// <item><description><c>new ModelOperationsCatalog(IHostEnvironment)</c>: loads a saved chain into that environment, as
/// <c>mlContext.Model.Load</c> does.</description></item>
/// <item><description><c>MLImage.CloneWithResizing(int, int, ImageResizeMode)</c>: the resizing <c>ResizeImages</c> runs, so code that
/// prepares images outside a chain resizes them to the same pixels.</description></item>
/// </list>
/// </remarks>
internal static class MLNetInterop
{
    private static readonly MethodInfo SchemaShapeCreate =
        typeof(SchemaShape).GetMethod("Create", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public, [typeof(DataViewSchema)])
        ?? throw Missing("SchemaShape.Create(DataViewSchema)");

    private static readonly PropertyInfo CatalogEnvironment =
        typeof(TransformsCatalog).Assembly.GetType("Microsoft.ML.Data.IInternalCatalog")?.GetProperty("Environment")
        ?? throw Missing("IInternalCatalog.Environment");

    private static readonly Type? EnvironmentInternal = typeof(IHostEnvironment).Assembly.GetType("Microsoft.ML.Runtime.IHostEnvironmentInternal");

    private static readonly PropertyInfo EnvironmentTempFilePath = EnvironmentProperty("TempFilePath");

    private static readonly PropertyInfo EnvironmentGpuDeviceId = EnvironmentProperty("GpuDeviceId");

    private static readonly PropertyInfo EnvironmentFallbackToCpu = EnvironmentProperty("FallbackToCpu");

    private static readonly ConstructorInfo ModelCatalogConstructor =
        typeof(ModelOperationsCatalog).GetConstructor(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, [typeof(IHostEnvironment)])
        ?? throw Missing("ModelOperationsCatalog(IHostEnvironment)");

    private static readonly MethodInfo ImageCloneWithResizing =
        typeof(MLImage).GetMethod("CloneWithResizing", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
        ?? throw Missing("MLImage.CloneWithResizing(int, int, ImageResizeMode)");

    // ResizeImages' IsoPad is ImageResizeMode.Pad (value 0) in ML.NET 5.
    private static readonly object ResizeModePad = Enum.Parse(ImageCloneWithResizing.GetParameters()[2].ParameterType, "Pad");

    /// <summary>
    /// A copy of <paramref name="image"/> resized to <paramref name="width"/>×<paramref name="height"/> keeping its aspect
    /// ratio and padding, exactly as <c>ResizeImages(..., ResizingKind.IsoPad)</c> resizes it.
    /// </summary>
    public static MLImage ResizeIsoPad(MLImage image, int width, int height)
    {
        try
        {
            return (MLImage)ImageCloneWithResizing.Invoke(image, [width, height, ResizeModePad])!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }

    /// <summary>ML.NET's own conversion of a schema to the shape estimators exchange.</summary>
    public static SchemaShape ToShape(DataViewSchema schema) => (SchemaShape)SchemaShapeCreate.Invoke(null, [schema])!;

    /// <summary>The environment behind a catalog (<c>mlContext.Transforms</c>, <c>mlContext.Data</c>, a trainers catalog).</summary>
    public static IHostEnvironment EnvironmentOf(object catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return catalog as IHostEnvironment
            ?? CatalogEnvironment.GetValue(catalog) as IHostEnvironment
            ?? throw new InvalidOperationException($"The catalog {catalog.GetType().Name} has no ML.NET environment; pass one of MLContext's catalogs.");
    }

    /// <summary>The environment's temporary folder (<see cref="MLContext.TempFilePath"/> for a context's environment).</summary>
    public static string TempFilePath(IHostEnvironment environment) =>
        EnvironmentTempFilePath.GetValue(environment) as string is { Length: > 0 } path ? path : Path.GetTempPath();

    /// <summary>The GPU the environment's ONNX models run on (<see cref="MLContext.GpuDeviceId"/>, null for the CPU) and whether
    /// they fall back to the CPU when it fails (<see cref="MLContext.FallbackToCpu"/>).</summary>
    public static (int? GpuDeviceId, bool FallbackToCpu) GpuSettings(IHostEnvironment environment) =>
        ((int?)EnvironmentGpuDeviceId.GetValue(environment), EnvironmentFallbackToCpu.GetValue(environment) is true);

    /// <summary>The model catalog of <paramref name="environment"/>: <c>mlContext.Model</c> for a context's environment.</summary>
    public static ModelOperationsCatalog ModelCatalog(IHostEnvironment environment) =>
        environment as MLContext is { } mlContext ? mlContext.Model : (ModelOperationsCatalog)ModelCatalogConstructor.Invoke([environment]);

    /// <summary>The column called <paramref name="name"/>, or null (<c>SchemaShape.TryFindColumn</c> is internal).</summary>
    public static SchemaShape.Column? FindColumn(SchemaShape shape, string name)
    {
        foreach (var column in shape)
        {
            if (column.Name == name)
                return column;
        }

        return null;
    }

    /// <summary>The shape of <paramref name="input"/> with <paramref name="columns"/> added (replacing columns of the same name).</summary>
    public static SchemaShape WithColumns(SchemaShape input, params DataViewSchema.DetachedColumn[] columns)
    {
        var builder = new DataViewSchema.Builder();
        var replaced = columns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var column in input)
        {
            if (!replaced.Contains(column.Name))
                builder.AddColumn(column.Name, TypeOf(column));
        }

        foreach (var column in columns)
            builder.AddColumn(column.Name, column.Type, column.Annotations);
        return ToShape(builder.ToSchema());
    }

    /// <summary>A column's type as ML.NET's schema errors print it ("String", "Key", "Vector&lt;Single&gt;").</summary>
    public static string Describe(SchemaShape.Column column)
    {
        string item = column.IsKey ? "Key" : column.ItemType?.ToString() ?? "unknown";
        return column.Kind switch
        {
            SchemaShape.Column.VectorKind.Scalar => item,
            SchemaShape.Column.VectorKind.Vector => $"Vector<{item}>",
            _ => $"VarVector<{item}>",
        };
    }

    // A representative type with the column's kind and item type; SchemaShape keeps no sizes or key counts.
    private static DataViewType TypeOf(SchemaShape.Column column)
    {
        DataViewType item = column.IsKey ? new KeyDataViewType(column.ItemType.RawType, 1) : column.ItemType;
        return column.Kind switch
        {
            SchemaShape.Column.VectorKind.Scalar => item,
            SchemaShape.Column.VectorKind.Vector => new VectorDataViewType((PrimitiveDataViewType)item, 1),
            _ => new VectorDataViewType((PrimitiveDataViewType)item),
        };
    }

    private static PropertyInfo EnvironmentProperty(string name) =>
        EnvironmentInternal?.GetProperty(name) ?? throw Missing($"IHostEnvironmentInternal.{name}");

    private static InvalidOperationException Missing(string member) =>
        new($"Ocr.MLNet needs ML.NET's {member}, which this ML.NET version lacks. Use the ML.NET version Ocr.MLNet depends on.");
}
