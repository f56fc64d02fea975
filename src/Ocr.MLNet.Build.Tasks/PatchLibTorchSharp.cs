using System;
using System.IO;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Ocr.MLNet.Build
{
    /// <summary>
    /// MSBuild task: marks TorchSharp's <c>GLIBCXX_3.4.32</c> need weak in each given copy of
    /// <c>libLibTorchSharp.so</c>, so it loads on libstdc++ older than GCC 13. Files already patched,
    /// or that do not need that version, are left as they are.
    /// </summary>
    public sealed class PatchLibTorchSharp : Task
    {
        /// <summary>The copies of <c>libLibTorchSharp.so</c> in the build or publish output.</summary>
        [Required]
        public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

        /// <inheritdoc />
        public override bool Execute()
        {
            foreach (var item in Files)
            {
                string path = item.GetMetadata("FullPath");
                try
                {
                    var result = ElfVersionNeedPatcher.Patch(path);
                    switch (result.Outcome)
                    {
                        case VersionNeedPatchOutcome.Patched:
                            Log.LogMessage(MessageImportance.High,
                                "Ocr.MLNet: marked {0} weak in {1} so TorchSharp loads on libstdc++ older than GCC 13.",
                                ElfVersionNeedPatcher.LibStdCxxVersion, path);
                            break;
                        case VersionNeedPatchOutcome.AlreadyPatched:
                            Log.LogMessage(MessageImportance.Low, "Ocr.MLNet: {0} is already patched.", path);
                            break;
                        default:
                            Log.LogMessage(MessageImportance.Normal,
                                "Ocr.MLNet: {0} does not need {1}; left unchanged.", path, ElfVersionNeedPatcher.LibStdCxxVersion);
                            break;
                    }
                }
                catch (UnexpectedElfException e)
                {
                    Log.LogError(null, "OCRMLNET001", null, path, 0, 0, 0, 0, e.Message);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    Log.LogError(null, "OCRMLNET002", null, path, 0, 0, 0, 0,
                        $"Ocr.MLNet could not patch '{path}': {e.Message} Make sure no running process holds the file, then build again.");
                }
            }

            return !Log.HasLoggedErrors;
        }
    }
}
