using System.Globalization;

namespace Respaldo.Policy;

/// <summary>
/// One request of Postfix's SMTP access policy delegation protocol
/// (https://www.postfix.org/SMTPD_POLICY_README.html): <c>name=value</c> attributes, as sent.
/// </summary>
public sealed class PolicyRequest
{
    private readonly Dictionary<string, string> _attributes;

    public PolicyRequest(IReadOnlyDictionary<string, string> attributes)
    {
        _attributes = new Dictionary<string, string>(attributes, StringComparer.Ordinal);
    }

    public string this[string name] => _attributes.GetValueOrDefault(name, "");

    /// <summary>Always "smtpd_access_policy" from Postfix's smtpd.</summary>
    public string Request => this["request"];

    /// <summary>RCPT, DATA, END-OF-MESSAGE, ... (the restriction list that asked).</summary>
    public string ProtocolState => this["protocol_state"];

    public string Recipient => this["recipient"];

    public string Sender => this["sender"];

    public string ClientAddress => this["client_address"];

    /// <summary>Identifies the mail transaction across its requests (RCPT ... END-OF-MESSAGE).</summary>
    public string Instance => this["instance"];

    /// <summary>The SIZE= the client declared at MAIL (RCPT state), or the real size (END-OF-MESSAGE); 0 when unknown.</summary>
    public long Size => long.TryParse(this["size"], NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : 0;

    public int RecipientCount => int.TryParse(this["recipient_count"], NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : 0;
}
