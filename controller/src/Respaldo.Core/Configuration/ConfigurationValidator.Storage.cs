namespace Respaldo.Configuration;

// storage: the space all backups may use.
public static partial class ConfigurationValidator
{
    private static StorageSettings ValidateStorage(StorageSection? section, ConfigPath at)
    {
        if (section?.Allocation is null)
        {
            at.At("allocation").Error("required: the space all backups together may use (\"20GB\")");
        }
        long allocation = Size(section?.Allocation, 0, at.At("allocation"));
        long minimumFree = Size(section?.MinimumFree, DefaultMinimumFree, at.At("minimumFree"));
        return new StorageSettings(allocation, minimumFree);
    }
}
