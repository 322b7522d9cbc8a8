using System.Net.Http.Headers;
using System.Text;
using Respaldo.Configuration;

namespace Respaldo.Alerts;

/// <summary>Alerts as an HTTP POST of JSON to the tenant's webhook; any 2xx is delivered.</summary>
public sealed class WebhookAlertChannel(HttpClient http) : IAlertChannel
{
    public string Name => "webhook";

    public bool AppliesTo(Tenant tenant) => tenant.AlertWebhook is not null;

    public async Task SendAsync(ComposedAlert alert, Tenant tenant, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, tenant.AlertWebhook)
        {
            Content = new StringContent(alert.Payload, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.Add("X-Respaldo-Alert", alert.Kind);
        request.Headers.Add("X-Respaldo-Alert-Id", alert.Key);
        using HttpResponseMessage response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"webhook answered {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
        }
    }
}
