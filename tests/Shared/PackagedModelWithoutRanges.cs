using Google.Protobuf;
using Ocr.MLNet.Serving;
using Onnx;

namespace Ocr.MLNet.Tests;

/// <summary>The packaged model zip as a model saved before the trainer measured activation ranges: no int8 scoring.</summary>
internal static class PackagedModelWithoutRanges
{
    /// <summary>The packaged zip with the ranges taken out of its network's metadata.</summary>
    public static byte[] Bytes()
    {
        var copy = new MemoryStream();
        using (var packaged = PretrainedCharacterModel.OpenRead())
            packaged.CopyTo(copy);
        using (var zip = new System.IO.Compression.ZipArchive(copy, System.IO.Compression.ZipArchiveMode.Update, leaveOpen: true))
        {
            foreach (var entry in zip.Entries.Where(e => e.Name == "OnnxModel").ToList())
            {
                byte[] bytes;
                using (var read = entry.Open())
                using (var buffer = new MemoryStream())
                {
                    read.CopyTo(buffer);
                    bytes = buffer.ToArray()[sizeof(int)..];
                }

                var model = ModelProto.Parser.ParseFrom(bytes);
                if (model.MetadataProps.All(p => p.Key != Int8Quantization.RangesMetadataKey))
                    continue;
                model.MetadataProps.Clear();
                byte[] stripped = model.ToByteArray();
                string name = entry.FullName;
                entry.Delete();
                using var write = zip.CreateEntry(name).Open();
                write.Write(BitConverter.GetBytes(stripped.Length));
                write.Write(stripped);
            }
        }

        return copy.ToArray();
    }
}
