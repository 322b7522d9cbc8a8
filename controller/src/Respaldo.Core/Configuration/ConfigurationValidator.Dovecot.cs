namespace Respaldo.Configuration;

// dovecot: the mail store's directories.
public static partial class ConfigurationValidator
{
    private static DovecotSettings ValidateDovecot(DovecotSection? section, ConfigPath at) =>
        new(
            AbsolutePath(section?.BaseDirectory, "/run/dovecot", at.At("baseDirectory")),
            AbsolutePath(section?.StateDirectory, "/var/lib/dovecot", at.At("stateDirectory")),
            OptionalAbsolutePath(section?.LogFile, at.At("logFile")));
}
