namespace Respaldo.Configuration;

// webmail: the send limit.
public static partial class ConfigurationValidator
{
    private static WebmailSettings ValidateWebmail(WebmailSection? section, ConfigPath at)
    {
        int limit = section?.SendLimitPerHour ?? DefaultSendLimitPerHour;
        if (limit is < 1 or > 10_000)
        {
            at.At("sendLimitPerHour").Error($"{limit} must be from 1 to 10000 messages per mailbox and hour");
        }
        return new WebmailSettings(limit);
    }
}
