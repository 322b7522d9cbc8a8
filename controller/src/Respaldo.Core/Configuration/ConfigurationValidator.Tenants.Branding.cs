namespace Respaldo.Configuration;

// tenants[].branding: the webmail's name, logo and colours.
public static partial class ConfigurationValidator
{
    private static TenantBranding? ValidateBranding(BrandingSection? b, string tenantName, ConfigPath at)
    {
        if (b is null)
        {
            return null;
        }
        string name = tenantName;
        if (b.Name is { } n)
        {
            name = n.Trim();
            if (name.Length is 0 or > 100 || name.Any(char.IsControl))
            {
                at.At("name").Error("must be 1 to 100 characters without control characters");
            }
        }
        Uri? logo = null;
        if (b.LogoUrl is { } url)
        {
            // Note: https only: the webmail's Content-Security-Policy allows this one origin for
            // images, and a plain-http logo would be mixed content on an https webmail.
            if (!Uri.TryCreate(url, UriKind.Absolute, out logo) || logo.Scheme != Uri.UriSchemeHttps || !string.IsNullOrEmpty(logo.UserInfo))
            {
                at.At("logoUrl").Error($"\"{url}\" must be an absolute https:// URL without user name or password");
                logo = null;
            }
        }
        string Colour(string? value, string fallback, string field)
        {
            if (value is null)
            {
                return fallback;
            }
            if (value.Length != 7 || value[0] != '#' || !value.Skip(1).All(char.IsAsciiHexDigit))
            {
                at.At(field).Error($"\"{value}\" must be a colour written #rrggbb");
                return fallback;
            }
            return value.ToLowerInvariant();
        }
        string primary = Colour(b.PrimaryColor, TenantBranding.DefaultPrimary, "primaryColor");
        string background = Colour(b.BackgroundColor, TenantBranding.DefaultBackground, "backgroundColor");
        return new TenantBranding(name, logo, primary, background);
    }
}
