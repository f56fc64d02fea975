using Ocr.MLNet.Fields;
using Ocr.MLNet.Text;

namespace Ocr.MLNet.Tests;

[TestFixture]
public sealed class FieldKindNamesTests
{
    [Test]
    public void Every_kind_has_one_short_name_that_parses_back_in_any_case()
    {
        Assert.That(FieldKindNames.Names, Is.EqualTo(new[] { "digits", "upper", "lower", "letters", "alnum" }));
        foreach (var kind in Enum.GetValues<FieldKind>())
        {
            string name = FieldKindNames.NameOf(kind);
            Assert.That(FieldKindNames.TryParse(name.ToUpperInvariant(), out var parsed), Is.True, name);
            Assert.That(parsed, Is.EqualTo(kind));
        }

        Assert.That(FieldKindNames.TryParse("roman", out _), Is.False);
        Assert.That(FieldKindNames.TryParse(null, out _), Is.False);
    }
}
