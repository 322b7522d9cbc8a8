// respaldoctl — the admin's command line for Respaldo.
//
// SYNOPSIS
//   respaldoctl check-config [FILE]
//   respaldoctl render [--config FILE] [--out DIR] [--templates DIR]
//   respaldoctl passwd [--cost N]
//   respaldoctl api-token NAME
//
// DESCRIPTION
//   Offline commands work on the configuration file alone; they never need the daemon.
//   Exit codes: 0 success, 1 failure (invalid configuration, I/O error), 2 usage error.
//
// SECURITY
//   Reads the configuration, which holds password hashes but no passwords; never prints
//   a hash it did not just create. 'render' writes Postfix and Dovecot configuration and
//   is meant to run as root (the files' owners); passwords typed to 'passwd' are never
//   echoed or logged.

using System.CommandLine;
using Respaldo.Ctl.Commands;

var root = new RootCommand("Respaldo, the backup MX: configuration and control")
{
    CheckConfigCommand.Create(),
    RenderCommand.Create(),
    PasswdCommand.Create(),
    ApiTokenCommand.Create(),
};
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
