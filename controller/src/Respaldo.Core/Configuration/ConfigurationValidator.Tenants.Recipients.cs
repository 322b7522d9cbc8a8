namespace Respaldo.Configuration;

// tenants[].recipients: how recipients are verified and cached.
public static partial class ConfigurationValidator
{
    private static RecipientSettings ValidateRecipients(RecipientsSection? section, ConfigPath at)
    {
        RecipientSettings d = RecipientSettings.Static;
        if (section is null)
        {
            return d;
        }
        string? file = OptionalAbsolutePath(section.File, at.At("file"));
        TimeSpan positive = d.PositiveTtl;
        if (section.PositiveCacheDays is { } days)
        {
            if (double.IsNaN(days) || days is <= 0 or > 365)
            {
                at.At("positiveCacheDays").Error($"{days} must be more than 0 and at most 365 days");
            }
            else
            {
                positive = TimeSpan.FromDays(days);
            }
        }
        TimeSpan negative = d.NegativeTtl;
        if (section.NegativeCacheHours is { } hours)
        {
            if (double.IsNaN(hours) || hours is < 0 or > 720)
            {
                at.At("negativeCacheHours").Error($"{hours} must be from 0 (no negative cache) to 720 hours");
            }
            else
            {
                negative = TimeSpan.FromHours(hours);
            }
        }
        return new RecipientSettings(section.Learn ?? false, file, positive, negative);
    }
}
