using System.CommandLine;
using Respaldo.ControlBus;
using Respaldo.Ctl.ControlBus;
using Tmds.DBus.Protocol;

namespace Respaldo.Ctl.Commands;

/// <summary>
/// The commands that talk to the running daemon over the control bus share this: connect,
/// run, and turn every failure into a sentence and an exit code (<see cref="ExitCodes"/>).
/// </summary>
internal static class LiveCommand
{
    public static void SetLiveAction(this Command command, Func<ParseResult, ControlClient, CancellationToken, Task<int>> action) =>
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                using ControlClient client = await ControlClient.ConnectAsync(result.GetValue(CommonOptions.Bus));
                return await action(result, client, cancellationToken);
            }
            catch (DaemonUnavailableException e)
            {
                Console.Error.WriteLine($"respaldoctl: {e.Message}");
                Console.Error.WriteLine("respaldoctl: is the service running? 'systemctl status respaldo'");
                return ExitCodes.DaemonUnavailable;
            }
            catch (DBusErrorReplyException e)
            {
                (int code, string text) = e.ErrorName switch
                {
                    ControlContract.Errors.AccessDenied => (ExitCodes.PermissionDenied, e.ErrorMessage),
                    "org.freedesktop.DBus.Error.AccessDenied" => (ExitCodes.PermissionDenied,
                        $"the bus refused the call: it needs root or the group {ControlContract.AdminGroup} ({e.ErrorMessage})"),
                    ControlContract.Errors.UnknownTenant or ControlContract.Errors.NotHeld => (ExitCodes.NotFound, e.ErrorMessage),
                    ControlContract.Errors.NotAvailable => (ExitCodes.NotAvailable, e.ErrorMessage),
                    _ => (ExitCodes.Failure, $"{e.ErrorMessage} ({e.ErrorName})"),
                };
                Console.Error.WriteLine($"respaldoctl: {text}");
                return code;
            }
            catch (InvalidDataException e)
            {
                Console.Error.WriteLine($"respaldoctl: {e.Message}");
                return ExitCodes.Failure;
            }
        });
}
