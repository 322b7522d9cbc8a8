namespace Respaldo.Smtp;

/// <summary>Where in a session something happened; named in probe results and hand-over records.</summary>
public enum SmtpStage
{
    Connect,
    Greeting,
    Ehlo,
    StartTls,
    MailFrom,
    RcptTo,
    Data,
    EndOfData,
    Reset,
    Quit,
}
