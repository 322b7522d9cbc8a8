using Respaldo.Daemon.Web.Shared;

namespace Respaldo.Daemon.Web.Webmail;

/// <summary>The webmail's words in Spanish (English is the key).</summary>
internal sealed class WebmailTexts : ITextSource
{
    public IReadOnlyDictionary<string, string> Spanish { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Webmail"] = "Correo web",
        ["Emergency mailbox"] = "Buzón de emergencia",
        ["Your usual mail server is not available. Here you can read and answer the mail that arrived meanwhile; all of it will reach your usual mailbox when the server is back."] =
            "Su servidor de correo habitual no está disponible. Aquí puede leer y contestar el correo que ha llegado mientras tanto; todo llegará a su buzón habitual cuando el servidor vuelva.",
        ["E-mail address"] = "Dirección de correo",
        ["Wrong address or password."] = "Dirección o contraseña incorrectas.",
        ["The mailbox service is not available. Try again in a minute."] = "El servicio de buzones no está disponible. Inténtelo dentro de un minuto.",
        ["Your usual mail server is not available right now. This is the emergency mailbox: every message here will reach your usual mailbox automatically when it is back. Nothing here can be deleted."] =
            "Su servidor de correo habitual no está disponible ahora. Este es el buzón de emergencia: todos los mensajes de aquí llegarán automáticamente a su buzón habitual cuando vuelva. Aquí no se puede borrar nada.",
        ["Your usual mail server is back. The messages below are being passed on to it and will disappear from here once they are there."] =
            "Su servidor de correo habitual ha vuelto. Los mensajes de abajo se le están pasando y desaparecerán de aquí cuando estén allí.",
        ["Inbox"] = "Bandeja de entrada",
        ["New message"] = "Mensaje nuevo",
        ["Your message was sent."] = "Su mensaje se ha enviado.",
        ["Search sender or subject"] = "Buscar remitente o asunto",
        ["Search"] = "Buscar",
        ["Show all"] = "Ver todos",
        ["There are no messages here."] = "No hay mensajes aquí.",
        ["No message matches."] = "Ningún mensaje coincide.",
        ["From"] = "De",
        ["Sender checks"] = "Comprobaciones del remitente",
        ["not checked by the backup"] = "no comprobado por el respaldo",
        ["passed"] = "correcto",
        ["FAILED"] = "FALLA",
        ["soft fail"] = "dudoso",
        ["neutral"] = "neutro",
        ["absent"] = "ausente",
        ["temporary error"] = "error temporal",
        ["permanent error"] = "error permanente",
        ["policy"] = "política",
        ["To"] = "Para",
        ["Cc"] = "Cc",
        ["Bcc"] = "Cco",
        ["Subject"] = "Asunto",
        ["Date"] = "Fecha",
        ["Size"] = "Tamaño",
        ["(no subject)"] = "(sin asunto)",
        ["Has attachments"] = "Tiene adjuntos",
        ["Pages"] = "Páginas",
        ["Newer messages"] = "Más recientes",
        ["Older messages"] = "Más antiguos",
        ["Page {0} of {1}"] = "Página {0} de {1}",
        ["Already in your usual mailbox"] = "Ya en su buzón habitual",
        ["These messages were passed on to your usual mail server ({0}) and are no longer kept here. Read them there, as always."] =
            "Estos mensajes se han pasado a su servidor de correo habitual ({0}) y ya no se guardan aquí. Léalos allí, como siempre.",
        ["Passed on"] = "Entregado",
        ["Message not found"] = "Mensaje no encontrado",
        ["This message is not here"] = "Este mensaje no está aquí",
        ["It may already have been passed on to your usual mail server, where you will find it as always. Messages of other mailboxes cannot be opened here."] =
            "Puede que ya se haya pasado a su servidor de correo habitual, donde lo encontrará como siempre. Aquí no se pueden abrir mensajes de otros buzones.",
        ["Reply to sender"] = "Responder",
        ["Reply all"] = "Responder a todos",
        ["Forward"] = "Reenviar",
        ["Show all headers"] = "Ver todas las cabeceras",
        ["Hide headers"] = "Ocultar cabeceras",
        ["Remote images were not loaded, to protect your privacy."] = "No se han cargado las imágenes remotas, para proteger su privacidad.",
        ["Show images"] = "Mostrar imágenes",
        ["Message"] = "Mensaje",
        ["Attachments"] = "Adjuntos",
        ["Send"] = "Enviar",
        ["No copy of what you send is kept here."] = "Aquí no se guarda copia de lo que envíe.",
        ["The original message \"{0}\" goes attached."] = "El mensaje original «{0}» va adjunto.",
        ["Write at least one recipient."] = "Escriba al menos un destinatario.",
        ["Too many recipients."] = "Demasiados destinatarios.",
        ["One of the addresses is not valid."] = "Una de las direcciones no es válida.",
        ["The message could not be sent now. Try again in a minute."] = "El mensaje no se ha podido enviar ahora. Inténtelo dentro de un minuto.",
        ["You have reached the number of messages this webmail sends per hour. Nothing was sent."] = "Ha alcanzado el número de mensajes que este correo web envía por hora. No se ha enviado nada.",
        ["You may send again from {0}."] = "Podrá volver a enviar a partir de {0}.",
        ["The message is too large to send: make the attachments smaller."] = "El mensaje es demasiado grande para enviarlo: reduzca los adjuntos.",
        ["This message is too large to show here ({0}). Download it from the list above."] = "Este mensaje es demasiado grande para mostrarlo aquí ({0}). Descárguelo de la lista de arriba.",
    };
}
