
namespace Ocr.MLNet.Loading;

/// <summary>
/// A view of chosen rows of another view, by row index in the source's cursor order: <c>rows</c> is sorted
/// ascending and may repeat an index (an up-sampled row). A cursor walks one source cursor forward, so nothing is
/// copied or cached: each getter is the source cursor's getter, and a repeated row is read again from the same source
/// position. The source must give its rows in the same order to every cursor without a random generator, as the
/// <see cref="IDataView"/> contract requires.
/// </summary>
internal sealed class RowSelectionDataView : IDataView
{
    private readonly IDataView _source;
    private readonly int[] _rows;

    public RowSelectionDataView(IDataView source, int[] rows)
    {
        _source = source;
        _rows = rows;
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema => _source.Schema;

    public long? GetRowCount() => _rows.Length;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        var columns = columnsNeeded.ToArray();
        return new Cursor(this, _source.GetRowCursor(columns), columns);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly RowSelectionDataView _parent;
        private readonly DataViewRowCursor _source;
        private readonly bool[] _active;
        private long _position = -1;
        private long _sourcePosition = -1;
        private bool _done;

        public Cursor(RowSelectionDataView parent, DataViewRowCursor source, DataViewSchema.Column[] columns)
        {
            _parent = parent;
            _source = source;
            _active = new bool[parent.Schema.Count];
            foreach (var column in columns)
                _active[column.Index] = true;
        }

        public override DataViewSchema Schema => _parent.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool MoveNext()
        {
            if (_done)
                return false;
            if (_position + 1 >= _parent._rows.Length)
            {
                _done = true;
                _position = -1;
                return false;
            }

            int target = _parent._rows[_position + 1];
            while (_sourcePosition < target)
            {
                if (!_source.MoveNext())
                {
                    throw new InvalidOperationException(
                        $"The data given to BalanceClasses ended after {_sourcePosition + 1} rows, but row {target} was selected: "
                        + "the data changed since BalanceClasses read it. Balance data whose rows stay the same from one read to the next "
                        + "(e.g. cache it with mlContext.Data.Cache first).");
                }

                _sourcePosition++;
            }

            _position++;
            return true;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() =>
            (ref DataViewRowId value) => value = new DataViewRowId((ulong)_position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when this cursor was made.");
            return _source.GetGetter<TValue>(column);
        }

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index >= 0 && column.Index < _active.Length && _active[column.Index];

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                _source.Dispose();
            base.Dispose(disposing);
        }
    }
}
