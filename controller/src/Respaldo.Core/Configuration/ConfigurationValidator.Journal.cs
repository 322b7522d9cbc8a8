namespace Respaldo.Configuration;

// journal: how long rows are kept.
public static partial class ConfigurationValidator
{
    private static JournalSettings ValidateJournal(JournalSection? section, ConfigPath at)
    {
        int days = section?.KeepDays ?? (int)JournalSettings.Default.Keep.TotalDays;
        // Note: at least a week, so the dashboard's charts and the start-up reconciliation
        // (a delivered copy still on disk after a crash) always find the rows they need.
        if (days is < 7 or > 36500)
        {
            at.At("keepDays").Error($"{days} must be from 7 to 36500");
            days = (int)JournalSettings.Default.Keep.TotalDays;
        }
        return new JournalSettings(TimeSpan.FromDays(days));
    }
}
