using System.Text.RegularExpressions;
using Respaldo.Daemon.Web.Dashboard;
using Respaldo.Daemon.Web.Dashboard.Pages;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Web;

/// <summary>The set-up page speaks Spanish as the other pages do: every text it shows has its translation.</summary>
public sealed partial class SetupPageTextsTests
{
    [GeneratedRegex("""T(?:\.Format)?\[?\(?"((?:[^"\\]|\\.)+)"[\],]""")]
    private static partial Regex TextKey();

    [Fact]
    public void EveryTextOfTheSetupPageHasItsSpanish()
    {
        string page = File.ReadAllText(Path.Combine(RepoPaths.Root, "controller", "src", "Respaldo.Daemon", "Web", "Dashboard", "Pages", "Setup.cshtml"));
        var keys = TextKey().Matches(page).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        foreach (Respaldo.Continuity.CheckStatus s in Enum.GetValues<Respaldo.Continuity.CheckStatus>())
        {
            keys.Add(SetupModel.Look(s).Text);
        }
        keys.Add("Set-up check");
        keys.Add("{0} to look at");
        Assert.True(keys.Count >= 15, string.Join(", ", keys));
        IReadOnlyDictionary<string, string> spanish = new DashboardTexts().Spanish;
        Assert.All(keys, k => Assert.True(spanish.ContainsKey(k), $"no Spanish for \"{k}\""));
    }
}
