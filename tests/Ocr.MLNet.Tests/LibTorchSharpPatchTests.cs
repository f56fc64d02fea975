using System.Runtime.InteropServices;
using Ocr.MLNet.Build;

namespace Ocr.MLNet.Tests;

[TestFixture]
public sealed class LibTorchSharpPatchTests : TemporaryDirectoryTest
{
    protected override string Prefix => "ocr-mlnet-elf";

    private string CopyOfPristine()
    {
        string original = TestEnvironment.PristineLibTorchSharp;
        Assume.That(File.Exists(original), $"TorchSharp's native file is not in the package cache at {original}");
        string copy = Path.Combine(WorkDirectory, "libLibTorchSharp.so");
        File.Copy(original, copy);
        return copy;
    }

    [Test]
    public void The_pristine_file_needs_the_version_strongly()
    {
        var result = ElfVersionNeedPatcher.Inspect(TestEnvironment.PristineLibTorchSharp);
        Assert.That(result.Outcome, Is.EqualTo(VersionNeedPatchOutcome.Patched), "the package's file should still need patching");
        Assert.That(result.FlagsOffset, Is.GreaterThan(0));
    }

    [Test]
    public void Patched_and_original_differ_in_exactly_the_weak_flag()
    {
        string copy = CopyOfPristine();
        byte[] before = File.ReadAllBytes(copy);

        var result = ElfVersionNeedPatcher.Patch(copy);
        byte[] after = File.ReadAllBytes(copy);

        Assert.That(result.Outcome, Is.EqualTo(VersionNeedPatchOutcome.Patched));
        Assert.That(after, Has.Length.EqualTo(before.Length));
        var differing = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToArray();
        Assert.That(differing, Is.EqualTo(new[] { (int)result.FlagsOffset }), "only the low byte of vna_flags may change");
        Assert.That(after[result.FlagsOffset] ^ before[result.FlagsOffset], Is.EqualTo(ElfVersionNeedPatcher.WeakFlag));

        // The entry is the GLIBCXX_3.4.32 Vernaux: its hash sits 4 bytes before vna_flags.
        uint hash = BitConverter.ToUInt32(after, (int)result.FlagsOffset - 4);
        Assert.That(hash, Is.EqualTo(ElfVersionNeedPatcher.ElfHash("GLIBCXX_3.4.32")));
    }

    [Test]
    public void Patching_twice_changes_nothing_the_second_time()
    {
        string copy = CopyOfPristine();
        ElfVersionNeedPatcher.Patch(copy);
        byte[] once = File.ReadAllBytes(copy);
        var writeTime = File.GetLastWriteTimeUtc(copy);

        var second = ElfVersionNeedPatcher.Patch(copy);

        Assert.That(second.Outcome, Is.EqualTo(VersionNeedPatchOutcome.AlreadyPatched));
        Assert.That(File.ReadAllBytes(copy), Is.EqualTo(once));
        Assert.That(File.GetLastWriteTimeUtc(copy), Is.EqualTo(writeTime), "an already patched file must not be rewritten");
    }

    [Test]
    public void A_file_without_that_version_need_is_left_untouched()
    {
        // A real x86-64 shared object of the .NET runtime: it has GNU version needs, but not GLIBCXX_3.4.32.
        string native = Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "libSystem.Native.so");
        Assume.That(File.Exists(native), $"{native} not found");
        string copy = Path.Combine(WorkDirectory, "libSystem.Native.so");
        File.Copy(native, copy);
        byte[] before = File.ReadAllBytes(copy);
        var writeTime = File.GetLastWriteTimeUtc(copy);

        var result = ElfVersionNeedPatcher.Patch(copy);

        Assert.That(result.Outcome, Is.EqualTo(VersionNeedPatchOutcome.NotNeeded));
        Assert.That(File.ReadAllBytes(copy), Is.EqualTo(before));
        Assert.That(File.GetLastWriteTimeUtc(copy), Is.EqualTo(writeTime));
    }

    [Test]
    public void A_hard_link_into_the_package_cache_is_not_modified_through_the_link()
    {
        string cacheCopy = CopyOfPristine();
        string linked = Path.Combine(WorkDirectory, "linked.so");
        var (exit, output) = TestEnvironment.Run("ln", $"\"{cacheCopy}\" \"{linked}\"", WorkDirectory, TimeSpan.FromSeconds(30));
        Assume.That(exit, Is.Zero, output);
        byte[] before = File.ReadAllBytes(cacheCopy);

        Assert.That(ElfVersionNeedPatcher.Patch(linked).Outcome, Is.EqualTo(VersionNeedPatchOutcome.Patched));
        Assert.That(File.ReadAllBytes(cacheCopy), Is.EqualTo(before));
        Assert.That(ElfVersionNeedPatcher.Inspect(linked).Outcome, Is.EqualTo(VersionNeedPatchOutcome.AlreadyPatched));
    }

    [Test]
    public void A_file_that_is_not_elf_is_an_error_naming_the_file()
    {
        string path = Path.Combine(WorkDirectory, "libLibTorchSharp.so");
        File.WriteAllText(path, new string('x', 200));
        byte[] before = File.ReadAllBytes(path);

        var error = Assert.Throws<UnexpectedElfException>(() => ElfVersionNeedPatcher.Patch(path))!;
        Assert.That(error.Message, Does.Contain(path).And.Contain("not an ELF file").And.Contain("OcrMLNetPatchLibTorchSharp=false"));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
    }

    [Test]
    public void A_truncated_file_is_an_error_and_is_left_as_it_was()
    {
        string path = Path.Combine(WorkDirectory, "libLibTorchSharp.so");
        byte[] head = File.ReadAllBytes(TestEnvironment.PristineLibTorchSharp).AsSpan(0, 4096).ToArray();
        File.WriteAllBytes(path, head);

        var error = Assert.Throws<UnexpectedElfException>(() => ElfVersionNeedPatcher.Patch(path))!;
        Assert.That(error.Message, Does.Contain(path).And.Contain("past the end of the file"));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(head));
    }

    [Test]
    public void A_32_bit_or_foreign_machine_elf_is_an_error()
    {
        string path = Path.Combine(WorkDirectory, "libLibTorchSharp.so");
        byte[] bytes = File.ReadAllBytes(TestEnvironment.PristineLibTorchSharp).AsSpan(0, 4096).ToArray();
        bytes[0x12] = 183; // EM_AARCH64
        File.WriteAllBytes(path, bytes);

        Assert.That(() => ElfVersionNeedPatcher.Patch(path),
            Throws.InstanceOf<UnexpectedElfException>().With.Message.Contain("machine 183"));
    }

    [Test]
    public void The_build_patched_the_copy_in_this_test_output()
    {
        string output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.That(File.Exists(output), Is.True, $"{output} is missing");
        Assert.That(ElfVersionNeedPatcher.Inspect(output).Outcome, Is.EqualTo(VersionNeedPatchOutcome.AlreadyPatched));
    }
}
