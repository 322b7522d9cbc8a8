namespace Respaldo.Ctl;

/// <summary>Exit codes scripts can test; README "respaldoctl" lists them.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int DaemonUnavailable = 3;
}
