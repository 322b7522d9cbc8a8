using Respaldo.Configuration;
using Respaldo.Smtp;

namespace Respaldo.Primary;

/// <summary>
/// The node's checks of whether a primary's port takes TCP connections, shared by the tenants
/// whose primaries are the same host and port: a check in flight is joined, and one that started
/// less than the asker's <c>fresh</c> ago is answered from its result. A provider's 1,000 tenants
/// pointing at one primary that refuses connections, each checking every fast interval (2 s),
/// were 500 connects a second to one closed port; shared, at most one per host and port per
/// <c>fresh</c>. Each tenant keeps its own schedule and state; only the connect is shared.
/// Note: a check runs to its own timeout whoever asked for it (one tenant's stop or reload must
/// not fail the others' answer); each asker stops waiting on its own token.
/// </summary>
public sealed class PortChecks(TimeProvider time, Func<HostPort, TimeSpan, Task<bool>>? check = null)
{
    private readonly Func<HostPort, TimeSpan, Task<bool>> _check = check ?? ((host, timeout) => SmtpConnection.AcceptsConnectionsAsync(host, timeout, CancellationToken.None));
    private readonly object _gate = new();
    private readonly Dictionary<HostPort, (Task<bool> Check, DateTimeOffset Started)> _last = [];

    /// <summary>How many connects were really made (for tests and the curious).</summary>
    public long Connects => Interlocked.Read(ref _connects);

    private long _connects;

    /// <summary>Whether <paramref name="host"/> takes connections: a check in flight or started within <paramref name="fresh"/> answers, else a new one (bounded by <paramref name="timeout"/>).</summary>
    public Task<bool> AcceptsAsync(HostPort host, TimeSpan fresh, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task<bool> shared;
        TaskCompletionSource<bool>? mine = null;
        lock (_gate)
        {
            DateTimeOffset now = time.GetUtcNow();
            if (_last.TryGetValue(host, out var last) && Reusable(last.Check, last.Started, now, fresh))
            {
                shared = last.Check;
            }
            else
            {
                mine = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                shared = mine.Task;
                _last[host] = (shared, now);
            }
        }
        if (mine is not null)
        {
            Interlocked.Increment(ref _connects);
            _ = RunAsync(mine, host, timeout);
        }
        return shared.WaitAsync(cancellationToken);
    }

    /// <summary>A check is reused while it runs, and after it while it is younger than <paramref name="fresh"/> and ended with an answer (not a fault).</summary>
    internal static bool Reusable(Task<bool> check, DateTimeOffset started, DateTimeOffset now, TimeSpan fresh) =>
        !check.IsCompleted || (check.IsCompletedSuccessfully && now - started < fresh);

    private async Task RunAsync(TaskCompletionSource<bool> result, HostPort host, TimeSpan timeout)
    {
        try
        {
            result.TrySetResult(await _check(host, timeout));
        }
#pragma warning disable CA1031 // Note: not swallowed: handed to every asker, as the unshared check threw it to its one caller.
        catch (Exception e)
#pragma warning restore CA1031
        {
            result.TrySetException(e);
        }
    }
}
