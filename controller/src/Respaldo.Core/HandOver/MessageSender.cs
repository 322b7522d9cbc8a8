using System.Buffers;
using System.Globalization;
using Respaldo.Mailboxes;
using Respaldo.Smtp;

namespace Respaldo.HandOver;

/// <summary>
/// Step 3 for one message on an open connection: read the envelope from the trace headers,
/// decide whether the message can go as it is, then MAIL/RCPT/DATA (pipelined where the
/// primary offers PIPELINING) and stream the stored bytes minus the trace headers, with only
/// SMTP's transparency rules applied. Classifies the primary's answer; never deletes anything.
/// </summary>
public sealed class MessageSender(SmtpConnection connection, TimeSpan dataTimeout)
{
    private const int ChunkSize = 64 * 1024;

    /// <summary>Messages up to this size are read once into memory; larger ones are streamed twice (facts, then data).</summary>
    private const int InMemoryLimit = 1024 * 1024;

    public SmtpConnection Connection => connection;

    public async Task<(HandOverResult Result, Envelope? Envelope)> SendAsync(WaitingMessage message, CancellationToken cancellationToken)
    {
        FileStream? file = OpenMessage(message);
        if (file is null)
        {
            return (HandOverResult.Vanished, null);
        }
        await using (file)
        {
            byte[]? whole = null;
            Envelope? envelope = null;
            try
            {
                long length = file.Length;
                int headLength = (int)Math.Min(length, ChunkSize);
                byte[] head = ArrayPool<byte>.Shared.Rent(Math.Max(headLength, 1));
                TraceHeaders.Result trace;
                try
                {
                    await file.ReadExactlyAsync(head.AsMemory(0, headLength), cancellationToken);
                    trace = TraceHeaders.Parse(head.AsSpan(0, headLength));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(head);
                }
                if (trace.Sender is null)
                {
                    return (Held(SmtpStage.MailFrom, "no Return-Path trace header at the top: the envelope is unknown, so it cannot be handed over"), null);
                }
                envelope = new Envelope(trace.Sender, trace.Recipient ?? message.Mailbox);
                if (!IsSafeAddress(envelope.Sender, allowEmpty: true) || !IsSafeAddress(envelope.Recipient, allowEmpty: false))
                {
                    return (Held(SmtpStage.MailFrom, "the trace headers name an address that cannot be written in an SMTP command"), envelope);
                }

                // Facts first: SIZE= and BODY= go into MAIL FROM, before any data.
                var facts = new MessageFacts.Builder();
                file.Position = trace.Length;
                long bodyLength = length - trace.Length;
                if (bodyLength <= InMemoryLimit)
                {
                    whole = ArrayPool<byte>.Shared.Rent((int)Math.Max(bodyLength, 1));
                    await file.ReadExactlyAsync(whole.AsMemory(0, (int)bodyLength), cancellationToken);
                    facts.Add(whole.AsSpan(0, (int)bodyLength));
                }
                else
                {
                    byte[] chunk = ArrayPool<byte>.Shared.Rent(ChunkSize);
                    try
                    {
                        int n;
                        while ((n = await file.ReadAsync(chunk.AsMemory(0, ChunkSize), cancellationToken)) > 0)
                        {
                            facts.Add(chunk.AsSpan(0, n));
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(chunk);
                    }
                }
                MessageFacts f = facts.Build();
                if (CannotGoAsItIs(envelope, f) is { } why)
                {
                    return (Held(SmtpStage.MailFrom, why), envelope);
                }

                HandOverResult? refused = await EnvelopeAsync(envelope, f, cancellationToken);
                if (refused is not null)
                {
                    return (refused, envelope);
                }
                await WriteDataAsync(file, trace.Length, whole, bodyLength, cancellationToken);
                SmtpReply final = await connection.ReadReplyAsync(SmtpStage.EndOfData, dataTimeout, cancellationToken);
                return (Classify(SmtpStage.EndOfData, final, delivered: final.Code is >= 200 and < 300), envelope);
            }
            catch (SmtpSessionException e)
            {
                // Note: a broken or stalled connection: the primary may or may not have the message
                // (a drop after the final dot). Keep the copy: a possible duplicate, never a loss.
                // The envelope, when known, goes into the journal with the attempt.
                return (new HandOverResult(HandOverOutcome.Deferred, e.Stage, e.Reply, e.Message) { SessionLost = true }, envelope);
            }
            finally
            {
                if (whole is not null)
                {
                    ArrayPool<byte>.Shared.Return(whole);
                }
            }
        }
    }

    /// <summary>Opens the message where it was seen, or where Dovecot moved it; null when it is gone.</summary>
    private static FileStream? OpenMessage(WaitingMessage message)
    {
        string? path = message.Path;
        for (int attempt = 0; attempt < 3 && path is not null; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0, FileOptions.SequentialScan | FileOptions.Asynchronous);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                path = MaildirLayout.Relocate(message.MaildirPath, message.BaseName);
            }
        }
        return null;
    }

    /// <summary>DESIGN.md: a message the primary cannot take as it is is held and reported, not rewritten.</summary>
    private string? CannotGoAsItIs(Envelope envelope, MessageFacts facts)
    {
        SmtpCapabilities caps = connection.Capabilities;
        if (facts.LongestLine > MessageFacts.MaxLineLength)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"a line of {facts.LongestLine} octets is longer than SMTP allows (998, RFC 5321 §4.5.3.1.6); it would have to be rewritten");
        }
        if (caps.MaxSize is { } max && facts.WireSize > max)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{facts.WireSize} octets is more than the primary's SIZE limit of {max}");
        }
        if (envelope.NeedsSmtpUtf8 && !caps.SmtpUtf8)
        {
            return "the envelope has non-ASCII addresses and the primary does not offer SMTPUTF8 (RFC 6531)";
        }
        if (facts.EightBit && !caps.EightBitMime)
        {
            return "the message has 8-bit data and the primary does not offer 8BITMIME (RFC 6152); it would have to be re-encoded";
        }
        return null;
    }

    private async Task<HandOverResult?> EnvelopeAsync(Envelope envelope, MessageFacts facts, CancellationToken cancellationToken)
    {
        SmtpCapabilities caps = connection.Capabilities;
        string mail = $"MAIL FROM:<{envelope.Sender}>";
        if (caps.Size)
        {
            mail += string.Create(CultureInfo.InvariantCulture, $" SIZE={facts.WireSize}");
        }
        if (facts.EightBit)
        {
            mail += " BODY=8BITMIME";
        }
        if (envelope.NeedsSmtpUtf8)
        {
            mail += " SMTPUTF8";
        }
        string rcpt = $"RCPT TO:<{envelope.Recipient}>";
        SmtpReply mailReply, rcptReply, dataReply;
        if (caps.Pipelining)
        {
            // RFC 2920: MAIL, RCPT and DATA in one write; DATA last in the group.
            connection.Write(mail);
            connection.Write(rcpt);
            connection.Write("DATA");
            await connection.FlushAsync(SmtpStage.MailFrom, cancellationToken);
            // Note: a 421 ends the session at once (RFC 5321 §3.8): the replies after it never come.
            mailReply = await connection.ReadReplyAsync(SmtpStage.MailFrom, connection.CommandTimeout, cancellationToken);
            if (mailReply.Code == 421)
            {
                return Classify(SmtpStage.MailFrom, mailReply, delivered: false);
            }
            rcptReply = await connection.ReadReplyAsync(SmtpStage.RcptTo, connection.CommandTimeout, cancellationToken);
            if (rcptReply.Code == 421)
            {
                return Classify(SmtpStage.RcptTo, rcptReply, delivered: false);
            }
            dataReply = await connection.ReadReplyAsync(SmtpStage.Data, connection.CommandTimeout, cancellationToken);
        }
        else
        {
            mailReply = await connection.CommandAsync(SmtpStage.MailFrom, mail, cancellationToken);
            if (mailReply.Code != 250)
            {
                return await RefusedAsync(SmtpStage.MailFrom, mailReply, cancellationToken);
            }
            rcptReply = await connection.CommandAsync(SmtpStage.RcptTo, rcpt, cancellationToken);
            if (rcptReply.Code is not (250 or 251))
            {
                return await RefusedAsync(SmtpStage.RcptTo, rcptReply, cancellationToken);
            }
            dataReply = await connection.CommandAsync(SmtpStage.Data, "DATA", cancellationToken);
        }
        if (mailReply.Code != 250 || rcptReply.Code is not (250 or 251))
        {
            if (dataReply.Code == 354)
            {
                // Note: the server opened DATA with no valid recipient; abandon the connection
                // rather than send anything into that transaction.
                return new HandOverResult(HandOverOutcome.Deferred, SmtpStage.Data, dataReply, "the primary opened DATA after refusing the envelope") { SessionLost = true };
            }
            return mailReply.Code != 250
                ? await RefusedAsync(SmtpStage.MailFrom, mailReply, cancellationToken)
                : await RefusedAsync(SmtpStage.RcptTo, rcptReply, cancellationToken);
        }
        if (dataReply.Code != 354)
        {
            return await RefusedAsync(SmtpStage.Data, dataReply, cancellationToken);
        }
        return null;
    }

    private async Task WriteDataAsync(FileStream file, long offset, byte[]? whole, long bodyLength, CancellationToken cancellationToken)
    {
        var encoder = new WireEncoder();
        byte[] input = whole ?? ArrayPool<byte>.Shared.Rent(ChunkSize);
        byte[] output = ArrayPool<byte>.Shared.Rent(WireEncoder.MaxOutput(ChunkSize) + 8);
        try
        {
            if (whole is not null)
            {
                for (long done = 0; done < bodyLength; done += ChunkSize)
                {
                    int n = (int)Math.Min(ChunkSize, bodyLength - done);
                    int encoded = encoder.Encode(whole.AsSpan((int)done, n), output);
                    await connection.WriteAsync(output.AsMemory(0, encoded), SmtpStage.EndOfData, cancellationToken);
                }
            }
            else
            {
                file.Position = offset;
                int n;
                while ((n = await file.ReadAsync(input.AsMemory(0, ChunkSize), cancellationToken)) > 0)
                {
                    int encoded = encoder.Encode(input.AsSpan(0, n), output);
                    await connection.WriteAsync(output.AsMemory(0, encoded), SmtpStage.EndOfData, cancellationToken);
                }
            }
            int end = encoder.Finish(output);
            await connection.WriteAsync(output.AsMemory(0, end), SmtpStage.EndOfData, cancellationToken);
            await connection.FlushAsync(SmtpStage.EndOfData, cancellationToken);
        }
        finally
        {
            if (whole is null)
            {
                ArrayPool<byte>.Shared.Return(input);
            }
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    /// <summary>A refusal before the data: classify it, then RSET so the connection can carry the next message.</summary>
    private async Task<HandOverResult> RefusedAsync(SmtpStage stage, SmtpReply reply, CancellationToken cancellationToken)
    {
        HandOverResult result = Classify(stage, reply, delivered: false);
        if (result.SessionLost)
        {
            return result;
        }
        SmtpReply reset = await connection.CommandAsync(SmtpStage.Reset, "RSET", cancellationToken);
        return reset.Code == 250 ? result : result with { SessionLost = true };
    }

    private static HandOverResult Classify(SmtpStage stage, SmtpReply reply, bool delivered)
    {
        if (delivered)
        {
            return HandOverResult.Delivered(reply);
        }
        if (reply.Code == 421)
        {
            return new HandOverResult(HandOverOutcome.Deferred, stage, reply, $"the primary is closing the connection: {reply.OneLine}") { SessionLost = true };
        }
        if (reply.IsTransient)
        {
            return new HandOverResult(HandOverOutcome.Deferred, stage, reply, $"deferred by the primary at {stage}: {reply.OneLine}");
        }
        return Held(stage, $"refused by the primary at {stage}: {reply.OneLine}", reply);
    }

    private static HandOverResult Held(SmtpStage stage, string reason, SmtpReply? reply = null) =>
        new(HandOverOutcome.Held, stage, reply, reason);

    /// <summary>An address taken from a stored file must not be able to inject SMTP syntax.</summary>
    private static bool IsSafeAddress(string address, bool allowEmpty)
    {
        if (address.Length == 0)
        {
            return allowEmpty;
        }
        return address.Length <= 512
            && !address.Any(c => c is '\r' or '\n' or '<' or '>' or '\0' || char.IsControl(c))
            && (address.Contains('"', StringComparison.Ordinal) || !address.Contains(' ', StringComparison.Ordinal));
    }
}
