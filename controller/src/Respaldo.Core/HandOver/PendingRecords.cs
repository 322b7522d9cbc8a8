namespace Respaldo.HandOver;

/// <summary>
/// The journal records a hand-over run still waits for (and the deletions behind them): a count,
/// and only the tasks that did not succeed. Note: a run of a million messages used to keep every
/// one of its tasks until its end; now what it holds is the records not yet durable.
/// </summary>
internal sealed class PendingRecords
{
    // Note: starts at one for the run itself, so the count reaches zero only after WhenAllAsync.
    private int _open = 1;
    private readonly TaskCompletionSource _settled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Task> _failed = [];

    public void Add(Task task)
    {
        Interlocked.Increment(ref _open);
        _ = task.ContinueWith(t =>
        {
            if (!t.IsCompletedSuccessfully)
            {
                lock (_failed)
                {
                    _failed.Add(t);
                }
            }
            Release();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _open) == 0)
        {
            _settled.TrySetResult();
        }
    }

    /// <summary>Once no more are added: completes when every record settled, failing as Task.WhenAll over all of them would.</summary>
    public async Task WhenAllAsync()
    {
        Release();
        await _settled.Task;
        Task[] failed;
        lock (_failed)
        {
            failed = [.. _failed];
        }
        await Task.WhenAll(failed);
    }
}
