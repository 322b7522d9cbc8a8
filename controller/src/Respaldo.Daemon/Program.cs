// respaldod — the Respaldo controller daemon.
//
// SYNOPSIS
//   respaldod [--config FILE] [--control-bus system|none|ADDRESS] | --help | --version
//
// DESCRIPTION
//   Watches the backup mailboxes, probes each tenant's primary mail server and hands
//   every stored message over to it once it accepts mail (docs/ARCHITECTURE.md,
//   "A message's life cycle").
//   Runs as a systemd Type=notify service (deploy/systemd/respaldo.service): READY, STATUS,
//   WATCHDOG, reload on SIGHUP; offers es.respaldo.Control1 on the system bus for respaldoctl.
//   A webmail (/webmail) lets each mailbox with a password read and answer its mail while
//   the primary is down, over IMAP to the local Dovecot.
//   This file only wires the rooms together; each room registers itself.
//
// SECURITY
//   Runs as its own unprivileged user (daemonUser, "respaldo"), a member of the mail user's
//   group: it reads, renames and deletes what Dovecot stores, while Dovecot's mail processes
//   (mailUser) cannot read its journal, web keys or submission password. Whatever umask it
//   is started with, it adds 0027: nothing it creates is readable by others. It reads the configuration
//   (password hashes, no passwords), opens outbound SMTP to the configured primaries only,
//   and never logs message contents or credentials. State-changing control bus calls are
//   accepted only from root and the group respaldo-admin, checked by the credentials the bus
//   daemon reports for the caller, whatever the bus policy allows.

using Respaldo.Daemon.Alerts;
using Respaldo.Daemon.Border;
using Respaldo.Daemon.Continuity;
using Respaldo.Daemon.ControlBus;
using Respaldo.Daemon.Drills;
using Respaldo.Daemon.Holds;
using Respaldo.Daemon.Hosting;
using Respaldo.Daemon.Policy;
using Respaldo.Daemon.Systemd;
using Respaldo.Daemon.Web;
using Respaldo.Daemon.Web.Dashboard;
using Respaldo.Daemon.Web.Metrics;
using Respaldo.Daemon.Web.Webmail;

// Note: the unit sets UMask=0027; a start by hand (or the lab, as root) must not leave the
// journal or the web keys readable by the mail user, who may pass through the state directory.
Mono.Unix.Native.FilePermissions inherited = Mono.Unix.Native.Syscall.umask(Mono.Unix.Native.FilePermissions.S_IWGRP | Mono.Unix.Native.FilePermissions.S_IRWXO);
_ = Mono.Unix.Native.Syscall.umask(inherited | Mono.Unix.Native.FilePermissions.S_IWGRP | Mono.Unix.Native.FilePermissions.S_IRWXO);

if (DaemonCommandLine.Answer(args, Console.Out) is { } answered)
{
    return answered;
}

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.AddRespaldoLogging();
try
{
    builder.AddRespaldoSettings();
}
catch (Respaldo.Configuration.ConfigurationException e)
{
    // A broken environment: said once, plainly (journald keeps stderr), and no restart loop.
    Console.Error.WriteLine($"respaldod: {e.Message}");
    return DaemonCommandLine.ConfigurationError;
}
builder.AddController();
builder.AddHolds();
builder.AddPolicyService();
builder.AddWeb();
builder.AddDashboard();
builder.AddWebmail();
builder.AddAlerts();
builder.AddBorder();
builder.AddContinuity();
builder.AddDrills();
builder.AddControlBus();
builder.AddSystemdService();

WebApplication app = builder.Build();
app.MapHealth();
app.MapDashboard();
app.MapWebmail();
app.MapMetricsEndpoint();
await app.RunAsync();
return 0;
