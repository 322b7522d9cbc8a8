using System.Net;
using System.Text.Json.Nodes;
using Respaldo.Security;
using Respaldo.Tests.Lab;

namespace Respaldo.Tests.Dashboard;

/// <summary>A dashboard session is bound to the password it was made with: a new password in the configuration (reload) ends it.</summary>
[Collection(LabCollection.Name)]
public sealed class PasswordChangeTests(LabFixture lab)
{
    [Fact]
    public async Task ASessionMadeBeforeAPasswordChangeIsRejectedAfterTheReload()
    {
        string path = (await lab.RunLabAsync("config")).Output.Trim();
        string original = await File.ReadAllTextAsync(path);
        string tenant = lab["DASHBOARD_TENANT"];
        try
        {
            // Users of its own, so that no other test's login changes; the bystander's hash stays.
            string bystanderHash = PasswordHash.Create("other", 4);
            await ReloadWithAsync(path, original, PasswordHash.Create("old password", 4), bystanderHash);
            using var stolen = new DashboardClient(lab["DASHBOARD_URL"]);
            Assert.Equal(HttpStatusCode.Redirect, await stolen.LoginAsync("cambio", "old password"));
            using var bystander = new DashboardClient(lab["DASHBOARD_URL"]);
            Assert.Equal(HttpStatusCode.Redirect, await bystander.LoginAsync("cambio2", "other"));
            Assert.Equal(HttpStatusCode.OK, (await stolen.GetAsync($"/t/{tenant}")).Status);

            // The owner changes the password (the hash in the configuration) and the daemon reloads.
            await ReloadWithAsync(path, original, PasswordHash.Create("new password", 4), bystanderHash);
            (HttpStatusCode status, _, HttpResponseMessage response) = await stolen.GetAsync($"/t/{tenant}");
            Assert.Equal(HttpStatusCode.Redirect, status);
            Assert.Contains("/login", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.Unauthorized, (await stolen.GetAsync($"/api/v1/tenants/{tenant}/status")).Status);
            // The reload itself ends no other session: the bystander's password did not change.
            Assert.Equal(HttpStatusCode.OK, (await bystander.GetAsync($"/t/{tenant}")).Status);
            using var owner = new DashboardClient(lab["DASHBOARD_URL"]);
            Assert.Equal(HttpStatusCode.Redirect, await owner.LoginAsync("cambio", "new password"));
            Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/t/{tenant}")).Status);
        }
        finally
        {
            await ReloadAsync(path, original);
        }
    }

    private async Task ReloadWithAsync(string path, string original, string hash, string otherHash)
    {
        JsonObject config = JsonNode.Parse(original)!.AsObject();
        JsonArray users = config["tenants"]![0]!["dashboardUsers"]!.AsArray();
        users.Add(new JsonObject { ["user"] = "cambio", ["passwordHash"] = hash });
        users.Add(new JsonObject { ["user"] = "cambio2", ["passwordHash"] = otherHash });
        await ReloadAsync(path, config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    private Task ReloadAsync(string path, string text) => ControllerReload.ReloadAsync(lab, path, text);
}
