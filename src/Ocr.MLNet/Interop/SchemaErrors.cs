namespace Ocr.MLNet;

/// <summary>Schema errors in ML.NET's own two wordings (its <c>Contracts.ExceptSchemaMismatch</c>), each followed by the fix.</summary>
internal static class SchemaErrors
{
    /// <summary>"Could not find {role} column '{name}'. {fix}"</summary>
    public static ArgumentOutOfRangeException NotFound(string role, string name, string fix) =>
        new("inputSchema", $"Could not find {role} column '{name}'. {fix}");

    /// <summary>"Schema mismatch for {role} column '{name}': expected {expected}, got {actual}. {fix}"</summary>
    public static ArgumentOutOfRangeException Mismatch(string role, string name, string expected, string actual, string fix) =>
        new("inputSchema", $"Schema mismatch for {role} column '{name}': expected {expected}, got {actual}. {fix}");
}
