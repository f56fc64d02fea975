namespace Ocr.MLNet.Loading;

/// <summary>
/// Lists a class-per-folder image tree (what <c>LoadFromImageFolder</c> does). The layout's one rule: each folder
/// directly in the root is a class named after the folder, holding that class's images in it or in subfolders;
/// files directly in the root have no class.
/// </summary>
internal static class ImageFolderLoader
{
    /// <summary>The label of the images in a class folder: the folder's name.</summary>
    public static string LabelOf(string classFolder) => Path.GetFileName(classFolder);

    /// <summary>Lists and checks the images under <paramref name="directory"/>.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="CharacterDataException">A bad file or folder (and <c>SkipBadFiles</c> is off), or no class folder at all.</exception>
    public static ImageFileRows Load(string directory, ImageFolderLoaderOptions? options)
    {
        options ??= new ImageFolderLoaderOptions();
        options.Validate();
        string root = ImageFileList.CheckDirectory(directory, "image",
            "Pass a folder that holds one folder per class (the folder name is the label) with the images inside.");
        var bad = new BadFiles(options.SkipBadFiles);
        var walk = new FolderWalk(root, bad);
        foreach (string file in walk.Files(root))
        {
            bad.Bad(file, $"The file '{file}' lies directly in the image folder '{root}', where only class folders belong, so it has no label.",
                "Move it into the folder of its class or out of the tree, or set SkipBadFiles = true to skip it.");
        }

        var classFolders = walk.Subfolders(root);
        if (classFolders.Count == 0)
        {
            throw new CharacterDataException(
                $"The image folder '{root}' holds no class folders. Put each class's images in a folder named after the class (e.g. '{Path.Combine(root, "A")}').",
                root, null);
        }

        var files = new ImageFileList.Builder(options.MaxRows);
        foreach (string classFolder in classFolders)
        {
            string label = LabelOf(classFolder);
            var paths = walk.FilesBelow(classFolder);
            if (paths.Count == 0)
            {
                bad.EmptyClassFolder(classFolder, label);
                continue;
            }

            foreach (string path in paths)
            {
                if (files.IsFull)
                    break;
                files.Add(path, label, options.InkPolarity);
            }
        }

        return ImageFileRows.Create(walk.DropDuplicates(files.Build()), root, options.VerifyImages, options.MaxImagePixels, bad);
    }
}
