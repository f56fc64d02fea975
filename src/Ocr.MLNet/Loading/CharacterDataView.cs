using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ocr.MLNet.Loading;

/// <summary>Rows of labelled character images, as <see cref="CharacterDataView{TRows}"/> reads them.</summary>
internal interface ICharacterRows
{
    /// <summary>Number of rows.</summary>
    int Count { get; }

    /// <summary>The label of a row.</summary>
    string GetLabel(int row);

    /// <summary>Writes a row's 1×32×32 floats into <paramref name="destination"/>.</summary>
    void CopyPixels(int row, Span<float> destination);
}

/// <summary>
/// Rows a loader returned (<c>LoadFromNistSd19</c>, <c>LoadFromImageFolder</c>, <c>LoadFromImages</c>,
/// <c>LoadFromEmnist</c>), with what the loader reports about them; read through <see cref="LoadedImages"/>.
/// </summary>
internal interface ILoadedRows : ICharacterRows
{
    /// <summary>The inputs the loader skipped as bad, in the order found; empty when none (always, for EMNIST).</summary>
    IReadOnlyList<SkippedImageFile> SkippedFiles { get; }
}

/// <summary>A <see cref="CharacterDataView{TRows}"/> whatever its row type, to reach its rows from a plain <see cref="IDataView"/>.</summary>
internal interface ICharacterDataView
{
    /// <summary>The rows behind the view.</summary>
    ICharacterRows Rows { get; }
}

/// <summary>
/// The <see cref="IDataView"/> over rows of character images: a string label column and a
/// 1×32×32 float pixels column, each row's floats built when a getter asks for them. Without a
/// <see cref="Random"/> the cursor walks the rows in order; with one (shuffling) it walks a random
/// permutation drawn from it. Row ids are the row indices.
/// </summary>
internal class CharacterDataView<TRows> : IDataView, ICharacterDataView
    where TRows : ICharacterRows
{
    /// <summary>Type of the pixels column: a float vector with dimensions 1 × 32 × 32 (channel, height, width).</summary>
    public static readonly VectorDataViewType PixelsType =
        new(NumberDataViewType.Single, 1, CharacterFormat.ImageSide, CharacterFormat.ImageSide);

    public CharacterDataView(TRows dataset, string labelColumnName, string pixelsColumnName)
    {
        Dataset = dataset;
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(labelColumnName, TextDataViewType.Instance);
        builder.AddColumn(pixelsColumnName, PixelsType);
        Schema = builder.ToSchema();
    }

    /// <summary>The rows behind this view, for code that can use them in bulk (e.g. the trainer).</summary>
    public TRows Dataset { get; }

    /// <inheritdoc />
    ICharacterRows ICharacterDataView.Rows => Dataset;

    /// <inheritdoc />
    public bool CanShuffle => true;

    /// <inheritdoc />
    public DataViewSchema Schema { get; }

    /// <inheritdoc />
    public long? GetRowCount() => Dataset.Count;

    /// <inheritdoc />
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        var active = new bool[Schema.Count];
        foreach (var column in columnsNeeded)
        {
            if (column.Index < 0 || column.Index >= Schema.Count || Schema[column.Index].Name != column.Name)
                throw new ArgumentException($"Column '{column.Name}' is not a column of this data view.", nameof(columnsNeeded));
            active[column.Index] = true;
        }

        int[]? order = null;
        if (rand is not null)
        {
            order = new int[Dataset.Count];
            for (int i = 0; i < order.Length; i++)
                order[i] = i;
            for (int i = order.Length - 1; i > 0; i--)
            {
                int j = rand.Next(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
        }

        return new Cursor(this, active, order);
    }

    /// <inheritdoc />
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly CharacterDataView<TRows> parent;
        private readonly bool[] active;
        private readonly int[]? order;
        private long position = -1;
        private int row = -1;

        public Cursor(CharacterDataView<TRows> parent, bool[] active, int[]? order)
        {
            this.parent = parent;
            this.active = active;
            this.order = order;
        }

        public override DataViewSchema Schema => parent.Schema;

        public override long Position => position;

        public override long Batch => 0;

        public override bool MoveNext()
        {
            if (position >= parent.Dataset.Count - 1)
            {
                position = parent.Dataset.Count;
                row = -1;
                return false;
            }

            position++;
            row = order is null ? (int)position : order[position];
            return true;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() =>
            (ref DataViewRowId value) =>
            {
                CheckPosition();
                value = new DataViewRowId((ulong)row, 0);
            };

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index >= 0 && column.Index < active.Length && active[column.Index];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
                throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor: ask for it in columnsNeeded.");

            if (column.Index == 0)
            {
                if (typeof(TValue) != typeof(ReadOnlyMemory<char>))
                    throw WrongType<TValue>(column, typeof(ReadOnlyMemory<char>));
                ValueGetter<ReadOnlyMemory<char>> label = (ref ReadOnlyMemory<char> value) =>
                {
                    CheckPosition();
                    value = parent.Dataset.GetLabel(row).AsMemory();
                };
                return (ValueGetter<TValue>)(Delegate)label;
            }

            if (typeof(TValue) != typeof(VBuffer<float>))
                throw WrongType<TValue>(column, typeof(VBuffer<float>));
            ValueGetter<VBuffer<float>> pixels = (ref VBuffer<float> value) =>
            {
                CheckPosition();
                var editor = VBufferEditor.Create(ref value, CharacterFormat.PixelCount);
                parent.Dataset.CopyPixels(row, editor.Values);
                value = editor.Commit();
            };
            return (ValueGetter<TValue>)(Delegate)pixels;
        }

        private static InvalidOperationException WrongType<TValue>(DataViewSchema.Column column, Type expected) =>
            new($"Invalid TValue in GetGetter for column '{column.Name}': got '{typeof(TValue)}', expected '{expected}'.");

        private void CheckPosition()
        {
            if (row < 0)
                throw new InvalidOperationException("The cursor is not on a row: call MoveNext() first and stop when it returns false.");
        }
    }
}
