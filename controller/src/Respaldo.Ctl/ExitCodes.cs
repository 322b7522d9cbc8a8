namespace Respaldo.Ctl;

/// <summary>Exit codes scripts can test; README "respaldoctl" lists them.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    /// <summary>respaldod is not running, or the bus it is on cannot be reached.</summary>
    public const int DaemonUnavailable = 3;
    /// <summary>The daemon or the bus refused: the change needs root or the group respaldo-admin.</summary>
    public const int PermissionDenied = 4;
    /// <summary>No such tenant, or no held message with that id.</summary>
    public const int NotFound = 5;
    /// <summary>probe/flush: the primary did not accept mail, messages are still waiting.</summary>
    public const int PrimaryDown = 6;
    /// <summary>The daemon cannot do it here (bounce without a submission path to the local Postfix).</summary>
    public const int NotAvailable = 7;
    /// <summary>doctor: at least one set-up check is failing.</summary>
    public const int SetupFailing = 8;
    /// <summary>drill: the fire drill failed (its reason is printed).</summary>
    public const int DrillFailed = 9;
}
