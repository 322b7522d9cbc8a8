namespace Respaldo.HandOver;

/// <summary>
/// The node's hand-over connections (controller.maxConnections), one for the life of the
/// process. Each worker of a run, of any tenant, holds one slot for as long as it works (it has
/// one connection open at a time), so that a thousand tenants whose primaries come back at once
/// open at most <see cref="Limit"/> connections, not four thousand. Waiters are served in the
/// order they came. A reload changes the limit in place: a higher one serves the waiters at
/// once; a lower one takes effect as slots are given back (none is taken from a worker).
/// </summary>
public sealed class ConnectionSlots
{
    private readonly Lock _gate = new();
    private readonly LinkedList<TaskCompletionSource<bool>> _waiters = new();
    private int _limit;
    private int _inUse;

    public ConnectionSlots(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        _limit = limit;
    }

    public int Limit
    {
        get
        {
            lock (_gate)
            {
                return _limit;
            }
        }
    }

    public int InUse
    {
        get
        {
            lock (_gate)
            {
                return _inUse;
            }
        }
    }

    public int Waiting
    {
        get
        {
            lock (_gate)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>A reload's new controller.maxConnections.</summary>
    public void SetLimit(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        lock (_gate)
        {
            _limit = limit;
            ServeWaiters();
        }
    }

    /// <summary>Takes a slot if one is free and nobody waits for one.</summary>
    public bool TryTake()
    {
        lock (_gate)
        {
            if (_waiters.Count > 0 || _inUse >= _limit)
            {
                return false;
            }
            _inUse++;
            return true;
        }
    }

    /// <summary>
    /// Takes a slot, waiting behind those who came first; <paramref name="waiting"/> is called
    /// every <paramref name="beat"/> meanwhile. False when <paramref name="cancellationToken"/>
    /// ended the wait first: then no slot is held.
    /// </summary>
    public async Task<bool> TakeAsync(TimeSpan beat, Action waiting, TimeProvider time, CancellationToken cancellationToken)
    {
        if (TryTake())
        {
            return true;
        }
        var served = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        LinkedListNode<TaskCompletionSource<bool>> place;
        lock (_gate)
        {
            place = _waiters.AddLast(served);
            ServeWaiters();
        }
        await using CancellationTokenRegistration leave = cancellationToken.Register(() =>
        {
            lock (_gate)
            {
                // Note: a waiter already served keeps its slot; whoever took it gives it back.
                if (place.List is not null)
                {
                    _waiters.Remove(place);
                    served.TrySetResult(false);
                }
            }
        });
        while (await Task.WhenAny(served.Task, Task.Delay(beat, time, CancellationToken.None)).ConfigureAwait(false) != served.Task)
        {
            waiting();
        }
        return await served.Task.ConfigureAwait(false);
    }

    public void Release()
    {
        lock (_gate)
        {
            _inUse--;
            ServeWaiters();
        }
    }

    private void ServeWaiters()
    {
        while (_inUse < _limit && _waiters.First is { } first)
        {
            _waiters.RemoveFirst();
            _inUse++;
            first.Value.TrySetResult(true);
        }
    }
}
