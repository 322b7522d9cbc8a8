// respaldoctl — the admin's command line for Respaldo.
//
// SYNOPSIS
//   respaldoctl check-config [FILE]
//   respaldoctl render [--config FILE] [--out DIR] [--templates DIR]
//   respaldoctl passwd [--cost N]
//   respaldoctl api-token NAME
//   respaldoctl journal check|recover [--journal FILE]
//   respaldoctl [--bus ADDRESS] status|queue|held [TENANT] [--json]
//   respaldoctl [--bus ADDRESS] flush [TENANT] | probe TENANT | release ID | bounce ID | reload
//   respaldoctl [--bus ADDRESS] doctor [TENANT] [--json] [--last]
//   respaldoctl [--bus ADDRESS] drill TENANT [--json]
//
// DESCRIPTION
//   Offline commands work on the configuration file alone; they never need the daemon.
//   Live commands talk to respaldod over its control bus (es.respaldo.Control1 on the system
//   bus). Exit codes: 0 success, 1 failure (invalid configuration, I/O error, messages deferred
//   or held), 2 usage error, 3 daemon not running or bus unreachable, 4 permission denied,
//   5 no such tenant or held message, 6 primary down, 7 not available here, 8 a set-up
//   check is failing, 9 a fire drill failed (ExitCodes.cs).
//
// SECURITY
//   Reads the configuration, which holds password hashes but no passwords; never prints
//   a hash it did not just create. 'render' writes Postfix and Dovecot configuration and
//   is meant to run as root (the files' owners); passwords typed to 'passwd' are never
//   echoed or logged. Anyone may read the status (and 'doctor --last'); flush, probe, doctor,
//   drill, release, bounce and reload need root or the group respaldo-admin (the bus policy and the
//   daemon both check).

using System.CommandLine;
using Respaldo.Ctl.Commands;

var root = new RootCommand("Respaldo, the backup MX: configuration and control")
{
    CheckConfigCommand.Create(),
    RenderCommand.Create(),
    PasswdCommand.Create(),
    StatusCommand.Create(),
    QueueCommand.CreateQueue(),
    QueueCommand.CreateHeld(),
    FlushCommand.Create(),
    ProbeCommand.Create(),
    DoctorCommand.Create(),
    DrillCommand.Create(),
    HoldCommands.CreateRelease(),
    HoldCommands.CreateBounce(),
    ReloadCommand.Create(),
    ApiTokenCommand.Create(),
    JournalCommand.Create(),
};
root.Options.Add(CommonOptions.Bus);
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
