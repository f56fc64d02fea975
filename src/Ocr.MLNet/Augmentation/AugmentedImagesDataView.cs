using Ocr.MLNet.Data;

namespace Ocr.MLNet.Augmentation;

/// <summary>
/// The result of <c>AugmentImages</c>: for each original row, the original (floats, exact) followed by its
/// augmented copies (one byte per pixel, linearly quantised over the data's value range), as a string label
/// column and a 1×32×32 float pixels column. Can shuffle with a permutation drawn from the given <see cref="Random"/>.
/// </summary>
internal sealed class AugmentedImagesDataView : IDataView
{
    private readonly string[] labels;
    private readonly float[] originals;
    private readonly byte[] copies;
    private readonly int copiesPerImage;
    private readonly float low;
    private readonly float step;

    public AugmentedImagesDataView(string[] labels, float[] originals, byte[] copies, int copiesPerImage, float low, float step,
        string labelColumnName, string pixelsColumnName)
    {
        this.labels = labels;
        this.originals = originals;
        this.copies = copies;
        this.copiesPerImage = copiesPerImage;
        this.low = low;
        this.step = step;
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(labelColumnName, TextDataViewType.Instance);
        builder.AddColumn(pixelsColumnName, EmnistDataView.PixelsType);
        Schema = builder.ToSchema();
    }

    public const int PixelCount = EmnistDataset.PixelCount;

    public long Count => (long)labels.Length * (1 + copiesPerImage);

    public bool CanShuffle => true;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => Count;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        var active = new bool[Schema.Count];
        foreach (var column in columnsNeeded)
        {
            if (column.Index < 0 || column.Index >= Schema.Count || Schema[column.Index].Name != column.Name)
                throw new ArgumentException($"Column '{column.Name}' is not a column of this augmented data view.", nameof(columnsNeeded));
            active[column.Index] = true;
        }

        long[]? order = null;
        if (rand is not null)
        {
            order = new long[Count];
            for (long i = 0; i < order.Length; i++)
                order[i] = i;
            for (long i = order.Length - 1; i > 0; i--)
            {
                long j = rand.NextInt64(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
        }

        return new Cursor(this, active, order);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private void CopyPixels(long row, Span<float> destination)
    {
        long image = row / (1 + copiesPerImage);
        int copy = (int)(row % (1 + copiesPerImage));
        if (copy == 0)
        {
            originals.AsSpan((int)(image * PixelCount), PixelCount).CopyTo(destination);
            return;
        }

        var source = copies.AsSpan((int)(((image * copiesPerImage) + copy - 1) * PixelCount), PixelCount);
        for (int i = 0; i < PixelCount; i++)
            destination[i] = low + (source[i] * step);
    }

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly AugmentedImagesDataView parent;
        private readonly bool[] active;
        private readonly long[]? order;
        private long position = -1;
        private long row = -1;

        public Cursor(AugmentedImagesDataView parent, bool[] active, long[]? order)
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
            if (position >= parent.Count - 1)
            {
                position = parent.Count;
                row = -1;
                return false;
            }

            position++;
            row = order is null ? position : order[position];
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
                    value = parent.labels[row / (1 + parent.copiesPerImage)].AsMemory();
                };
                return (ValueGetter<TValue>)(Delegate)label;
            }

            if (typeof(TValue) != typeof(VBuffer<float>))
                throw WrongType<TValue>(column, typeof(VBuffer<float>));
            ValueGetter<VBuffer<float>> pixels = (ref VBuffer<float> value) =>
            {
                CheckPosition();
                var editor = VBufferEditor.Create(ref value, PixelCount);
                parent.CopyPixels(row, editor.Values);
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
