using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Respaldo.Configuration;
using Respaldo.Events;

namespace Respaldo.Alerts;

/// <summary>The words of an alert: a subject and a plain-text body (Spanish, then English), and the webhook's JSON.</summary>
public static class AlertComposer
{
    private static readonly CultureInfo Es = CultureInfo.GetCultureInfo("es-ES");
    private static readonly CultureInfo En = CultureInfo.GetCultureInfo("en-GB");

    public static string Subject(Alert a, Tenant tenant)
    {
        string what = a.Kind switch
        {
            AlertKind.FirstArrival => "llega correo al respaldo / mail is arriving at the backup",
            AlertKind.ArrivalDigest => $"{a.MessageCount} mensaje(s) más en el respaldo / {a.MessageCount} more message(s) at the backup",
            AlertKind.PrimaryDown => "el servidor principal no acepta correo / the primary is down",
            AlertKind.PrimaryBack => $"el servidor principal ha vuelto, {a.HandedOver} entregado(s) / the primary is back, {a.HandedOver} handed over",
            AlertKind.MessageHeld => $"{Math.Max(1, a.Held.Count)} mensaje(s) retenido(s) / message(s) held",
            AlertKind.StorageWarning => $"almacenamiento al {a.StoragePercent:0}% / storage at {a.StoragePercent:0}%",
            AlertKind.StorageCritical => $"almacenamiento casi lleno ({a.StoragePercent:0}%) / storage nearly full",
            AlertKind.SetupFailing => $"{a.SetupChecks.Count} fallo(s) en la instalación / {a.SetupChecks.Count} set-up check(s) failing",
            AlertKind.DrillFailing => "el simulacro ha fallado / the fire drill failed",
            _ => a.Kind.WireName(),
        };
        return $"[Respaldo] {tenant.Name}: {what}";
    }

    public static string Body(Alert a, Tenant tenant)
    {
        var text = new StringBuilder();
        text.Append(Describe(a, tenant, spanish: true)).Append("\n\n-- \n\n").Append(Describe(a, tenant, spanish: false));
        text.Append("\n\n-- \nRespaldo · ").Append(tenant.Name).Append(" (").Append(tenant.Id).Append(") · ")
            .Append(a.Kind.WireName()).Append(' ').Append(a.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)).Append('\n');
        return text.ToString();
    }

    private static string Describe(Alert a, Tenant tenant, bool spanish)
    {
        CultureInfo c = spanish ? Es : En;
        string When(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
        string Mailboxes() => string.Join("\n", a.Mailboxes.Select(m => string.Format(c, "  {0}: {1} ({2})", m.Mailbox, m.Count, ByteSize.Format(m.Bytes))));
        var s = new StringBuilder();
        switch (a.Kind)
        {
            case AlertKind.FirstArrival:
                s.Append(spanish
                    ? $"Ha llegado correo de {tenant.Name} al servidor de respaldo ({When(a.At)}): el servidor principal no lo ha recibido. Se entregará automáticamente en cuanto vuelva.\n"
                    : $"Mail for {tenant.Name} has reached the backup server ({When(a.At)}): the primary did not take it. It will be handed over automatically as soon as the primary is back.\n");
                s.Append(Mailboxes());
                break;
            case AlertKind.ArrivalDigest:
                s.Append(spanish
                    ? $"Desde el último aviso han llegado {a.MessageCount} mensaje(s) más al respaldo:\n"
                    : $"{a.MessageCount} more message(s) reached the backup since the last alert:\n");
                s.Append(Mailboxes());
                break;
            case AlertKind.PrimaryDown:
                s.Append(spanish
                    ? $"El servidor principal {a.Host} no acepta correo desde {When(a.At)}.\nMotivo: {a.Reason}\nEl respaldo guarda el correo y lo entregará cuando vuelva."
                    : $"The primary {a.Host} has not accepted mail since {When(a.At)}.\nReason: {a.Reason}\nThe backup keeps the mail and will hand it over when it is back.");
                break;
            case AlertKind.PrimaryBack:
                s.Append(spanish
                    ? string.Format(c, "El servidor principal {0} acepta correo de nuevo. Entregados: {1} mensaje(s) en {2:0.0} s.", a.Host ?? "", a.HandedOver, a.Seconds)
                    : string.Format(c, "The primary {0} accepts mail again. Handed over: {1} message(s) in {2:0.0} s.", a.Host ?? "", a.HandedOver, a.Seconds));
                if (a.StillWaiting is > 0)
                {
                    s.Append(spanish ? $"\nAún esperan: {a.StillWaiting}." : $"\nStill waiting: {a.StillWaiting}.");
                }
                break;
            case AlertKind.MessageHeld:
                s.Append(spanish
                    ? "El servidor principal ha rechazado definitivamente (5xx) estos mensajes, o no pueden entregarse tal como son. Están retenidos en el respaldo hasta que un administrador decida (reintentar o devolver al remitente):\n"
                    : "The primary refused these messages for good (5xx), or they cannot go as they are. They are held at the backup until an administrator decides (retry or bounce to the sender):\n");
                s.Append(string.Join("\n", a.Held.Select(h => $"  {h.Mailbox} {h.Message}: {h.Reason}")));
                break;
            case AlertKind.SetupFailing:
                s.Append(spanish
                    ? "La comprobación de la instalación ha encontrado fallos: si el servidor principal cayera ahora, el correo podría no llegar al respaldo o no volver al principal (respaldoctl doctor). Qué se vio y cómo corregirlo (en inglés):\n"
                    : "The set-up check found faults: if the primary failed now, mail might not reach the backup, or not get back to the primary (respaldoctl doctor). What was seen and the fix:\n");
                s.Append(string.Join("\n", a.SetupChecks.Select(f => $"  {f.Check} {f.Subject}: {f.Seen}\n    fix: {f.Fix}")));
                break;
            case AlertKind.DrillFailing:
                s.Append(spanish
                    ? $"Un simulacro ({a.Drill?.Drill}) ha enviado un mensaje de prueba a {a.Drill?.Address} por el respaldo y no ha llegado al servidor principal: si el principal cayera ahora, el correo podría no volver a él (respaldoctl drill {tenant.Id}). Motivo (en inglés):\n  {a.Reason}"
                    : $"A fire drill ({a.Drill?.Drill}) sent a test message to {a.Drill?.Address} through the backup and it did not reach the primary: if the primary failed now, mail might not get back to it (respaldoctl drill {tenant.Id}). Reason:\n  {a.Reason}");
                break;
            case AlertKind.StorageWarning or AlertKind.StorageCritical:
                s.Append(spanish
                    ? string.Format(c, "El correo guardado en el respaldo ocupa {0} de {1} ({2:0.0} %). Espacio libre en disco: {3}.", ByteSize.Format(a.StorageUsed ?? 0), ByteSize.Format(a.StorageLimit ?? 0), a.StoragePercent, ByteSize.Format(a.DiskFree ?? 0))
                    : string.Format(c, "Mail stored at the backup uses {0} of {1} ({2:0.0} %). Free disk space: {3}.", ByteSize.Format(a.StorageUsed ?? 0), ByteSize.Format(a.StorageLimit ?? 0), a.StoragePercent, ByteSize.Format(a.DiskFree ?? 0)));
                break;
        }
        return s.ToString();
    }

    /// <summary>The webhook's body: the same facts as the mail, for machines.</summary>
    public static string Payload(Alert a, Tenant tenant)
    {
        var json = new JsonObject
        {
            ["id"] = a.Key,
            ["kind"] = a.Kind.WireName(),
            ["tenant"] = tenant.Id,
            ["tenantName"] = tenant.Name,
            ["at"] = a.At.UtcDateTime.ToString("o", CultureInfo.InvariantCulture),
            ["subject"] = Subject(a, tenant),
        };
        if (a.Mailboxes.Count > 0)
        {
            json["messages"] = a.MessageCount;
            json["mailboxes"] = new JsonArray(a.Mailboxes.Select(m => (JsonNode)new JsonObject
            {
                ["mailbox"] = m.Mailbox,
                ["count"] = m.Count,
                ["bytes"] = m.Bytes,
            }).ToArray());
        }
        if (a.Held.Count > 0)
        {
            json["held"] = new JsonArray(a.Held.Select(h => (JsonNode)new JsonObject
            {
                ["mailbox"] = h.Mailbox,
                ["message"] = h.Message,
                ["reason"] = h.Reason,
            }).ToArray());
        }
        if (a.SetupChecks.Count > 0)
        {
            json["checks"] = new JsonArray(a.SetupChecks.Select(f => (JsonNode)new JsonObject
            {
                ["check"] = f.Check,
                ["subject"] = f.Subject,
                ["seen"] = f.Seen,
                ["fix"] = f.Fix,
            }).ToArray());
        }
        void Put(string name, JsonNode? value)
        {
            if (value is not null)
            {
                json[name] = value;
            }
        }
        if (a.Drill is { } drill)
        {
            json["drill"] = new JsonObject
            {
                ["id"] = drill.Drill,
                ["address"] = drill.Address,
                ["step"] = drill.Step,
            };
        }
        Put("host", a.Host);
        Put("reason", a.Reason);
        Put("downSince", a.DownSince?.UtcDateTime.ToString("o", CultureInfo.InvariantCulture));
        Put("handedOver", a.HandedOver);
        Put("stillWaiting", a.StillWaiting);
        Put("seconds", a.Seconds is { } sec ? Math.Round(sec, 3) : null);
        Put("storagePercent", a.StoragePercent);
        Put("storageUsed", a.StorageUsed);
        Put("storageLimit", a.StorageLimit);
        Put("diskFree", a.DiskFree);
        return json.ToJsonString();
    }
}
