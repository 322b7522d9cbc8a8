using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Respaldo.Tests.Alerts;

/// <summary>A tiny HTTP listener on the loopback that records every JSON POST; it can refuse the first few to test retries.</summary>
public sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private int _refuse;

    public WebhookReceiver()
    {
        Port = FreePort();
        Url = $"http://127.0.0.1:{Port}/hook/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }
    public string Url { get; }
    public ConcurrentQueue<JsonElement> Received { get; } = new();
    public int Refused => _refusedCount;
    private int _refusedCount;

    /// <summary>The next <paramref name="n"/> requests get 503.</summary>
    public void RefuseNext(int n) => Interlocked.Exchange(ref _refuse, n);

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var reader = new StreamReader(context.Request.InputStream);
            string body = await reader.ReadToEndAsync();
            if (Interlocked.Decrement(ref _refuse) >= 0)
            {
                Interlocked.Increment(ref _refusedCount);
                context.Response.StatusCode = 503;
            }
            else
            {
                Received.Enqueue(JsonDocument.Parse(body).RootElement.Clone());
                context.Response.StatusCode = 204;
            }
            context.Response.Close();
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
