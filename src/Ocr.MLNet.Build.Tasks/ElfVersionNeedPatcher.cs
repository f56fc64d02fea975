using System;
using System.IO;
using System.Text;

namespace Ocr.MLNet.Build
{
    /// <summary>What <see cref="ElfVersionNeedPatcher.Patch"/> did to a file.</summary>
    public enum VersionNeedPatchOutcome
    {
        /// <summary>The version need was strong and is now marked weak.</summary>
        Patched,

        /// <summary>The version need was already weak; the file was not written.</summary>
        AlreadyPatched,

        /// <summary>The file does not need that version; the file was not written.</summary>
        NotNeeded,
    }

    /// <summary>The result of patching one file.</summary>
    public sealed class VersionNeedPatchResult
    {
        internal VersionNeedPatchResult(VersionNeedPatchOutcome outcome, long flagsOffset)
        {
            Outcome = outcome;
            FlagsOffset = flagsOffset;
        }

        /// <summary>What was done.</summary>
        public VersionNeedPatchOutcome Outcome { get; }

        /// <summary>File offset of the <c>vna_flags</c> field of the entry, or -1 when the file has no such entry.</summary>
        public long FlagsOffset { get; }
    }

    /// <summary>A file that is not the ELF64 little-endian x86-64 shared object the patcher expects.</summary>
    public sealed class UnexpectedElfException : Exception
    {
        /// <summary>Creates the exception for <paramref name="path"/>.</summary>
        public UnexpectedElfException(string path, string problem)
            : base($"'{path}' {problem}. Ocr.MLNet expects TorchSharp's ELF64 x86-64 libLibTorchSharp.so with a GNU version-need section. "
                   + "Restore the TorchSharp package again, or set the MSBuild property OcrMLNetPatchLibTorchSharp=false to skip this step.")
        {
            Path = path;
        }

        /// <summary>The file that was rejected.</summary>
        public string Path { get; }
    }

    /// <summary>
    /// Marks one GNU symbol-version need of an ELF shared object as weak (<c>VER_FLG_WEAK</c>), so the
    /// dynamic loader only warns when the providing library lacks that version instead of refusing to load.
    /// </summary>
    /// <remarks>
    /// TorchSharp 0.107.0's <c>libLibTorchSharp.so</c> needs <c>GLIBCXX_3.4.32</c> (GCC 13) for one symbol
    /// that nothing calls, so it fails to load on systems with an older libstdc++ (Debian 12). Only the
    /// <c>vna_flags</c> field of that <c>Elf64_Vernaux</c> entry changes.
    /// </remarks>
    public static class ElfVersionNeedPatcher
    {
        /// <summary>The version that TorchSharp 0.107.0 needs without using it.</summary>
        public const string LibStdCxxVersion = "GLIBCXX_3.4.32";

        /// <summary>The <c>vna_flags</c> bit that makes a version need weak.</summary>
        public const ushort WeakFlag = 0x2;

        private const uint SectionTypeGnuVersionNeed = 0x6ffffffe;
        private const ushort MachineX86_64 = 62;
        private const int MaxHeaderBytes = 64 * 1024 * 1024;

        /// <summary>Finds the version need <paramref name="versionName"/> in <paramref name="path"/> without changing the file.</summary>
        /// <returns><see cref="VersionNeedPatchOutcome.Patched"/> here means "needs patching".</returns>
        /// <exception cref="UnexpectedElfException">The file is not an ELF64 x86-64 object with a well-formed version-need section.</exception>
        public static VersionNeedPatchResult Inspect(string path, string versionName = LibStdCxxVersion)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            return Locate(stream, path, versionName);
        }

        /// <summary>
        /// Marks <paramref name="versionName"/> weak in <paramref name="path"/> if it is needed and not weak yet.
        /// The file is rewritten through a sibling temporary file and a rename, so a hard link into a
        /// package cache is never modified.
        /// </summary>
        /// <exception cref="UnexpectedElfException">The file is not an ELF64 x86-64 object with a well-formed version-need section.</exception>
        public static VersionNeedPatchResult Patch(string path, string versionName = LibStdCxxVersion)
        {
            var found = Inspect(path, versionName);
            if (found.Outcome != VersionNeedPatchOutcome.Patched)
                return found;

            string temporary = path + ".ocr-mlnet-patch.tmp";
            File.Copy(path, temporary, overwrite: true);
            try
            {
                using (var stream = new FileStream(temporary, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                    var again = Locate(stream, path, versionName);
                    if (again.FlagsOffset != found.FlagsOffset)
                        throw new UnexpectedElfException(path, "changed while it was being patched");
                    stream.Position = found.FlagsOffset;
                    ushort flags = ReadUInt16(stream);
                    flags |= WeakFlag;
                    stream.Position = found.FlagsOffset;
                    stream.WriteByte((byte)(flags & 0xff));
                    stream.WriteByte((byte)(flags >> 8));
                }

                File.Delete(path);
                File.Move(temporary, path);
            }
            finally
            {
                if (File.Exists(temporary))
                    File.Delete(temporary);
            }

            return found;
        }

        private static VersionNeedPatchResult Locate(FileStream stream, string path, string versionName)
        {
            long length = stream.Length;
            if (length < 64)
                throw new UnexpectedElfException(path, "is too short to be an ELF file");

            byte[] header = ReadAt(stream, 0, 64, path);
            if (header[0] != 0x7f || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F')
                throw new UnexpectedElfException(path, "is not an ELF file (bad magic number)");
            if (header[4] != 2)
                throw new UnexpectedElfException(path, "is not a 64-bit ELF file");
            if (header[5] != 1)
                throw new UnexpectedElfException(path, "is not a little-endian ELF file");
            ushort machine = UInt16(header, 0x12);
            if (machine != MachineX86_64)
                throw new UnexpectedElfException(path, $"is built for ELF machine {machine}, not x86-64 ({MachineX86_64})");

            ulong sectionTableOffset = UInt64(header, 0x28);
            ushort sectionHeaderSize = UInt16(header, 0x3a);
            ushort sectionCount = UInt16(header, 0x3c);
            if (sectionTableOffset == 0 || sectionCount == 0)
                throw new UnexpectedElfException(path, "has no section header table");
            if (sectionHeaderSize < 64)
                throw new UnexpectedElfException(path, $"has section headers of {sectionHeaderSize} bytes (64 expected)");
            CheckRange(path, length, sectionTableOffset, (ulong)sectionHeaderSize * sectionCount, "section header table");

            byte[] sections = ReadAt(stream, (long)sectionTableOffset, sectionHeaderSize * sectionCount, path);
            int needIndex = -1;
            for (int i = 0; i < sectionCount; i++)
            {
                if (UInt32(sections, i * sectionHeaderSize + 4) != SectionTypeGnuVersionNeed)
                    continue;
                if (needIndex >= 0)
                    throw new UnexpectedElfException(path, "has more than one GNU version-need section");
                needIndex = i;
            }

            if (needIndex < 0)
                return new VersionNeedPatchResult(VersionNeedPatchOutcome.NotNeeded, -1);

            int need = needIndex * sectionHeaderSize;
            ulong needOffset = UInt64(sections, need + 0x18);
            ulong needSize = UInt64(sections, need + 0x20);
            uint stringSectionIndex = UInt32(sections, need + 0x28);
            uint needCount = UInt32(sections, need + 0x2c);
            if (stringSectionIndex >= sectionCount)
                throw new UnexpectedElfException(path, $"links its version-need section to section {stringSectionIndex}, which does not exist");
            CheckRange(path, length, needOffset, needSize, "version-need section");
            if (needSize > MaxHeaderBytes)
                throw new UnexpectedElfException(path, $"has a version-need section of {needSize} bytes");

            int strings = (int)stringSectionIndex * sectionHeaderSize;
            ulong stringsOffset = UInt64(sections, strings + 0x18);
            ulong stringsSize = UInt64(sections, strings + 0x20);
            CheckRange(path, length, stringsOffset, stringsSize, "dynamic string table");
            if (stringsSize > MaxHeaderBytes)
                throw new UnexpectedElfException(path, $"has a dynamic string table of {stringsSize} bytes");

            byte[] needBytes = ReadAt(stream, (long)needOffset, (int)needSize, path);
            byte[] stringBytes = ReadAt(stream, (long)stringsOffset, (int)stringsSize, path);

            long entry = 0;
            long found = -1;
            for (uint n = 0; n < needCount; n++)
            {
                if (entry < 0 || entry + 16 > needBytes.Length)
                    throw new UnexpectedElfException(path, $"has a version-need entry outside its section (entry {n})");
                ushort version = UInt16(needBytes, (int)entry);
                if (version != 1)
                    throw new UnexpectedElfException(path, $"has version-need entry {n} of revision {version} (1 expected)");
                ushort auxCount = UInt16(needBytes, (int)entry + 2);
                uint auxOffset = UInt32(needBytes, (int)entry + 8);
                uint next = UInt32(needBytes, (int)entry + 12);

                long aux = entry + auxOffset;
                for (ushort a = 0; a < auxCount; a++)
                {
                    if (aux < 0 || aux + 16 > needBytes.Length)
                        throw new UnexpectedElfException(path, $"has a version-need auxiliary entry outside its section (entry {n}.{a})");
                    uint hash = UInt32(needBytes, (int)aux);
                    uint nameOffset = UInt32(needBytes, (int)aux + 8);
                    string name = ReadString(stringBytes, nameOffset, path);
                    if (name == versionName)
                    {
                        if (hash != ElfHash(name))
                            throw new UnexpectedElfException(path, $"records hash 0x{hash:x8} for {name}, which does not match its name");
                        if (found >= 0)
                            throw new UnexpectedElfException(path, $"needs {name} more than once");
                        found = aux;
                    }

                    uint auxNext = UInt32(needBytes, (int)aux + 12);
                    if (auxNext == 0)
                        break;
                    aux += auxNext;
                }

                if (next == 0)
                    break;
                entry += next;
            }

            if (found < 0)
                return new VersionNeedPatchResult(VersionNeedPatchOutcome.NotNeeded, -1);

            long flagsOffset = (long)needOffset + found + 4;
            ushort flags = UInt16(needBytes, (int)found + 4);
            return new VersionNeedPatchResult(
                (flags & WeakFlag) != 0 ? VersionNeedPatchOutcome.AlreadyPatched : VersionNeedPatchOutcome.Patched,
                flagsOffset);
        }

        /// <summary>The System V ELF hash, which <c>vna_hash</c> must hold for the entry's name.</summary>
        public static uint ElfHash(string name)
        {
            uint h = 0;
            foreach (byte c in Encoding.ASCII.GetBytes(name))
            {
                h = (h << 4) + c;
                uint g = h & 0xf0000000;
                if (g != 0)
                    h ^= g >> 24;
                h &= ~g;
            }

            return h;
        }

        private static void CheckRange(string path, long length, ulong offset, ulong size, string what)
        {
            if (offset > (ulong)length || size > (ulong)length - offset)
                throw new UnexpectedElfException(path, $"has a {what} (offset {offset}, {size} bytes) that runs past the end of the file ({length} bytes)");
        }

        private static byte[] ReadAt(FileStream stream, long offset, int count, string path)
        {
            var buffer = new byte[count];
            stream.Position = offset;
            int read = 0;
            while (read < count)
            {
                int n = stream.Read(buffer, read, count - read);
                if (n == 0)
                    throw new UnexpectedElfException(path, $"ends before offset {offset + count}");
                read += n;
            }

            return buffer;
        }

        private static string ReadString(byte[] table, uint offset, string path)
        {
            if (offset >= table.Length)
                throw new UnexpectedElfException(path, $"names a version at string offset {offset}, outside its string table");
            int end = Array.IndexOf(table, (byte)0, (int)offset);
            if (end < 0)
                throw new UnexpectedElfException(path, $"has an unterminated string at offset {offset} of its string table");
            return Encoding.ASCII.GetString(table, (int)offset, end - (int)offset);
        }

        private static ushort ReadUInt16(Stream stream)
        {
            int lo = stream.ReadByte();
            int hi = stream.ReadByte();
            return (ushort)(lo | (hi << 8));
        }

        private static ushort UInt16(byte[] b, int i) => (ushort)(b[i] | (b[i + 1] << 8));

        private static uint UInt32(byte[] b, int i) => (uint)(b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24));

        private static ulong UInt64(byte[] b, int i) => UInt32(b, i) | ((ulong)UInt32(b, i + 4) << 32);
    }
}
