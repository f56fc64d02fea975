namespace Ocr.MLNet.Data;

/// <summary>
/// The <see cref="IDataView"/> over an <see cref="EmnistDataset"/>: a string label column and a
/// 1×32×32 float pixels column, each row's floats built when a getter asks for them (see
/// <see cref="CharacterDataView{TRows}"/>). Row ids are the file row indices.
/// </summary>
internal sealed class EmnistDataView(EmnistDataset dataset, string labelColumnName, string pixelsColumnName)
    : CharacterDataView<EmnistDataset>(dataset, labelColumnName, pixelsColumnName);
