using System.Net.Sockets;
using Respaldo.Policy;
using Respaldo.Supervision;

namespace Respaldo.Daemon.Policy;

/// <summary>
/// The policy socket (intake.policySocket): accepts Postfix's smtpd connections and, on each,
/// answers request after request with <see cref="FrontDoorPolicy"/>. A thin loop: no decision
/// is made here.
///
/// SECURITY: the socket is created with mode 0660; its directory decides who else may connect
/// (deploy it setgid to the postfix group, so the socket's group is postfix). A request is at
/// most 128 lines of 8 KiB. A controller that is stopped answers nothing: Postfix then applies
/// smtpd_policy_service_default_action, a 451, so senders retry and nothing is lost.
/// </summary>
internal sealed partial class PolicyService(FrontDoorPolicy policy, RespaldoRuntime runtime, ILogger<PolicyService> logger) : BackgroundService
{
    private const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    private Socket? _listener;
    private string? _path;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Note: bound before the host reports ready; a socket we cannot create is a broken
        // environment and the daemon does not start (systemd restarts it, Postfix defers meanwhile).
        _path = runtime.Settings.Intake.PolicySocket;
        _listener = await BindAsync(_path, cancellationToken);
        await policy.PrepareAsync(cancellationToken);
        LogListening(logger, _path);
        await base.StartAsync(cancellationToken);
    }

    private static async Task<Socket> BindAsync(string path, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path))
        {
            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await probe.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
                throw new InvalidOperationException($"{path}: another policy service answers there; is a second respaldod running?");
            }
            catch (SocketException)
            {
                // Note: left over by a controller that was killed; nobody listens, so it goes.
                File.Delete(path);
            }
        }
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, SocketMode);
            listener.Listen(128);
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Socket listener = _listener!;
        while (!stoppingToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            _ = Task.Run(() => ServeAsync(client, stoppingToken), CancellationToken.None);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken stoppingToken)
    {
        using (client)
        await using (var stream = new NetworkStream(client, ownsSocket: false))
        {
            var protocol = new PolicyProtocol(stream);
            try
            {
                while (await protocol.ReadAsync(stoppingToken) is { } request)
                {
                    PolicyDecision decision;
                    try
                    {
                        decision = await policy.DecideAsync(request, stoppingToken);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // Note: an answer is owed for every request; a failure in our own checks
                        // (journal, disk) must defer the sender, never accept blindly.
                        LogDecisionFailed(logger, request.Recipient, e);
                        decision = PolicyDecision.NotReady;
                    }
                    await protocol.WriteAsync(decision, stoppingToken);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or InvalidDataException)
            {
                LogConnectionFailed(logger, e.Message);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Shutting down: Postfix reconnects to the next controller.
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        _listener?.Dispose();
        if (_path is not null)
        {
            File.Delete(_path);
        }
    }

    public override void Dispose()
    {
        _listener?.Dispose();
        base.Dispose();
    }

    [LoggerMessage(EventId = 1510, Level = LogLevel.Information, Message = "policy service listening on {Path}")]
    private static partial void LogListening(ILogger logger, string path);

    [LoggerMessage(EventId = 1511, Level = LogLevel.Warning, Message = "policy connection dropped: {Reason}")]
    private static partial void LogConnectionFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 1512, Level = LogLevel.Error, Message = "policy decision for <{Recipient}> failed; answering 451")]
    private static partial void LogDecisionFailed(ILogger logger, string recipient, Exception exception);
}
