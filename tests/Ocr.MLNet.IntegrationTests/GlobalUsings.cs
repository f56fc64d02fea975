// The helpers in ../Shared (TestEnvironment, TemporaryDirectoryTest, SyntheticGlyphs, DrawnGlyphs, …).
global using Ocr.MLNet.Tests;
