namespace Respaldo.Smtp;

/// <summary>
/// How many times bytes moved on a connection (a slice written, a reply read). Only its
/// changes matter: a hand-over whose count moves is making progress, however slowly.
/// </summary>
public sealed class ActivityCounter
{
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    public void Add() => Interlocked.Increment(ref _count);
}
