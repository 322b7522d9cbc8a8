using System.Buffers;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using Respaldo.Mailboxes;
using Respaldo.Smtp;

namespace Respaldo.HandOver;

/// <summary>
/// Step 3 for one message on an open connection: read the envelope from the trace headers,
/// decide whether the message can go as it is, then MAIL/RCPT/DATA (pipelined where the
/// primary offers PIPELINING) and stream the stored bytes minus the trace headers, with only
/// SMTP's transparency rules applied; or, when the primary offers CHUNKING, MAIL/RCPT and the
/// same bytes in counted BDAT chunks (RFC 3030), without dot-stuffing and without a 354 to wait for. Classifies the primary's answer; never deletes anything.
/// A stored file that cannot be read is classified too (<see cref="MessageFile"/>): it never
/// throws out of <see cref="SendAsync"/> and so never stops the hand-over of the others.
/// </summary>
/// <param name="open">open(2) for the stored files; a seam for tests (an EACCES as root).</param>
public sealed class MessageSender(SmtpConnection connection, TimeSpan dataTimeout, MessageFile.OpenFunction? open = null)
{
    private const int ChunkSize = 64 * 1024;

    /// <summary>Messages up to this size are read once into memory; larger ones are streamed twice (facts, then data).</summary>
    private const int InMemoryLimit = 1024 * 1024;

    public SmtpConnection Connection => connection;

    /// <summary>Bytes per second: the slowest the primary may take the data (<see cref="MessageDeadline"/>).</summary>
    public long MinimumDataRate { get; init; } = Configuration.ControllerSettings.Default.MinimumDataRate;

    /// <summary>
    /// The largest BDAT chunk. A message up to this size on the wire goes as one
    /// <c>BDAT n LAST</c>; a larger one in chunks of this size, each chunk's reply read before
    /// the next goes, so a refusal stops the data within one chunk. 1 MiB: one round trip per
    /// MiB costs nothing next to the transfer, and it bounds the buffer a send holds.
    /// </summary>
    public int BdatChunkSize { get; init; } = 1024 * 1024;

    /// <summary>
    /// Sends one message. <paramref name="cancellationToken"/> aborts it (a stop whose grace ran
    /// out) only before its final dot (with BDAT, its last chunk): once the dot is sent only the reply's own timeout
    /// (dataTimeout) ends the wait, since cutting it then would leave the primary with the
    /// message and us without its 250 (a duplicate at the next attempt). The whole message is
    /// bounded by its <see cref="MessageDeadline"/>; past it, it is deferred.
    /// </summary>
    public async Task<(HandOverResult Result, Envelope? Envelope)> SendAsync(WaitingMessage message, CancellationToken cancellationToken)
    {
        (HandOverResult? early, Envelope? envelope, PreparedMessage? prepared) = await PrepareAsync(message, open, cancellationToken);
        if (prepared is null)
        {
            return (early!, envelope);
        }
        using (prepared)
        {
            (HandOverResult result, _) = await SendAsync(prepared, envelopeSent: false, next: null, CancellationToken.None, cancellationToken);
            return (result, prepared.Envelope);
        }
    }

    /// <summary>
    /// Opens and reads a stored message and checks what does not depend on the primary: the
    /// trace headers, the envelope, the facts. Either a result (it vanished, it is held, it
    /// cannot be read now: it never reaches the wire) or a message ready to go.
    /// </summary>
    public static async Task<(HandOverResult? Result, Envelope? Envelope, PreparedMessage? Prepared)> PrepareAsync(
        WaitingMessage message, MessageFile.OpenFunction? open, CancellationToken cancellationToken)
    {
        MessageFileOpening opening = StoredCopy.Open(message, open);
        switch (opening.State)
        {
            case MessageFileState.Gone:
                return (HandOverResult.Vanished, null, null);
            case MessageFileState.NotAMessage:
                return (HandOverResult.NotAMessage(opening.Reason), null, null);
            case MessageFileState.Unreadable:
                return (Held(SmtpStage.Connect, $"the stored copy cannot be read by the controller ({opening.Reason}): fix its owner or mode, then release it"), null, null);
            case MessageFileState.Failing:
                return (new HandOverResult(HandOverOutcome.Deferred, SmtpStage.Connect, null, $"the stored copy cannot be opened ({opening.Reason}); tried again later"), null, null);
        }
        SafeFileHandle file = opening.File!;
        byte[]? whole = null;
        Envelope? envelope = null;
        bool kept = false;
        try
        {
            // Note: small messages (nearly all) are read once, synchronously, into a pooled buffer:
            // no thread-pool hop per read; Linux has no asynchronous file reads to wait for anyway.
            long length = RandomAccess.GetLength(file);
            TraceHeaders.Result trace;
            var facts = new MessageFacts.Builder();
            if (length <= InMemoryLimit)
            {
                whole = ArrayPool<byte>.Shared.Rent((int)Math.Max(length, 1));
                int read = ReadFully(file, whole.AsSpan(0, (int)length), 0);
                length = read;
                trace = TraceHeaders.Parse(whole.AsSpan(0, (int)Math.Min(length, ChunkSize)));
                facts.Add(whole.AsSpan(trace.Length, (int)(length - trace.Length)));
            }
            else
            {
                byte[] chunk = ArrayPool<byte>.Shared.Rent(ChunkSize);
                try
                {
                    int headLength = ReadFully(file, chunk.AsSpan(0, ChunkSize), 0);
                    trace = TraceHeaders.Parse(chunk.AsSpan(0, headLength));
                    // Facts first: SIZE= and BODY= go into MAIL FROM, before any data.
                    long offset = trace.Length;
                    int n;
                    while ((n = await RandomAccess.ReadAsync(file, chunk.AsMemory(0, ChunkSize), offset, cancellationToken)) > 0)
                    {
                        facts.Add(chunk.AsSpan(0, n));
                        offset += n;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(chunk);
                }
            }
            if (trace.Sender is null)
            {
                return (Held(SmtpStage.MailFrom, "no Return-Path trace header at the top: the envelope is unknown, so it cannot be handed over"), null, null);
            }
            if (!trace.ViaLmtp)
            {
                return (Held(SmtpStage.MailFrom, "the top of the file is not Dovecot's LMTP trace (Return-Path, Delivered-To, a Received line \"with LMTP\"): it did not come through the backup's Postfix, so it is not handed over"), null, null);
            }
            envelope = new Envelope(trace.Sender, trace.Recipient!);
            if (!IsSafeAddress(envelope.Sender, allowEmpty: true) || !IsSafeAddress(envelope.Recipient, allowEmpty: false))
            {
                return (Held(SmtpStage.MailFrom, "the trace headers name an address that cannot be written in an SMTP command"), envelope, null);
            }
            // Note: RCPT TO is the Delivered-To of the file only when it is the address of the
            // mailbox holding the file. A file planted into a maildir (an IMAP APPEND, a file
            // copied in) could otherwise name any address at a primary that trusts its backup.
            if (!MaildirLayout.IsAddressOf(envelope.Recipient, message.Mailbox))
            {
                return (Held(SmtpStage.RcptTo, $"its Delivered-To is not {message.Mailbox}, the mailbox that holds the file: a message is handed over only to its own mailbox's address"), envelope, null);
            }
            kept = true;
            return (null, envelope, new PreparedMessage(message, file, whole, length, trace.Length, facts.Build(), envelope));
        }
        catch (IOException e)
        {
            // Note: reading the stored copy failed (EIO on a failing disk, say): it stays and is retried.
            return (new HandOverResult(HandOverOutcome.Deferred, SmtpStage.Connect, null, $"the stored copy cannot be read: {e.Message}; tried again later"), envelope, null);
        }
        finally
        {
            if (!kept)
            {
                if (whole is not null)
                {
                    ArrayPool<byte>.Shared.Return(whole);
                }
                file.Dispose();
            }
        }
    }

    /// <summary>
    /// Sends a prepared message on this connection (see <see cref="SendAsync(WaitingMessage, CancellationToken)"/>
    /// for <paramref name="cancellationToken"/>). <paramref name="envelopeSent"/>: its MAIL/RCPT/DATA
    /// already went behind the previous message's end of data; only their replies are read.
    /// <paramref name="next"/>, when the primary offers PIPELINING: the next message, whose
    /// envelope goes right behind this message's end of data (RFC 2920 §3.1), unless
    /// <paramref name="stopping"/> is cancelled by then or it cannot go as it is. Returns whether
    /// it went; it is worth anything only if the session is not lost.
    /// </summary>
    public async Task<(HandOverResult Result, bool NextEnvelopeSent)> SendAsync(
        PreparedMessage message, bool envelopeSent, PreparedMessage? next, CancellationToken stopping, CancellationToken cancellationToken)
    {
        bool inData = false;
        // Note: the message's deadline is the connection's reusable scope, not a source of its own.
        CancellationTokenRegistration scope = default;
        CancellationToken deadline = default;
        TimeSpan allowed = TimeSpan.Zero;
        try
        {
            MessageFacts f = message.Facts;
            if (!envelopeSent && CannotGoAsItIs(message.Envelope, f) is { } why)
            {
                return (Held(SmtpStage.MailFrom, why), false);
            }

            allowed = MessageDeadline.For(f.WireSize, connection.CommandTimeout, dataTimeout, MinimumDataRate);
            scope = connection.MessageScope(allowed, cancellationToken, out deadline);
            bool chunking = connection.Capabilities.Chunking;
            HandOverResult? refused = await EnvelopeAsync(message.Envelope, f, chunking, envelopeSent, resetAfterRefusal: true, deadline);
            if (refused is not null)
            {
                return (refused, false);
            }
            inData = true;
            // Note: the next message's envelope follows this one's end of data only once this
            // body was wholly read and encoded (an I/O error or a bare CR above abandons the
            // session before it) and the next was checked against what the primary takes.
            bool withNext = next is not null && connection.Capabilities.Pipelining && CannotGoAsItIs(next.Envelope, next.Facts) is null;
            if (chunking)
            {
                return await ChunksAsync(message, withNext ? next : null, stopping, deadline);
            }
            await WriteDataAsync(message.File, message.DataOffset, message.Whole, message.Length, deadline);
            bool nextSent = withNext && !stopping.IsCancellationRequested;
            if (nextSent)
            {
                await WriteEnvelopeAsync(next!.Envelope, next.Facts, chunking: false, reset: false, CancellationToken.None);
            }
            await FlushEndAsync(nextSent, deadline);
            // Note: the final dot is out: from here no stop and no deadline may cut the session,
            // only the reply's own timeout (README, "A slow primary and the watchdog").
            SmtpReply final = await connection.ReadReplyAsync(SmtpStage.EndOfData, dataTimeout, CancellationToken.None);
            return (Classify(SmtpStage.EndOfData, final, delivered: final.Code is >= 200 and < 300), nextSent);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // Note: a tarpit (or a primary slower than minimumDataRate): the final dot (or the
            // whole last BDAT chunk) was never sent, so the primary discards what it got; the
            // copy stays and is retried.
            return (new HandOverResult(HandOverOutcome.Deferred, inData ? SmtpStage.EndOfData : SmtpStage.MailFrom, null,
                string.Create(CultureInfo.InvariantCulture,
                    $"not handed over within its deadline of {allowed.TotalSeconds:0.#}s (its size at the minimum rate of {MinimumDataRate} bytes/s, plus the timeouts); tried again later"))
            { SessionLost = true }, false);
        }
        catch (SmtpSessionException e)
        {
            // Note: a broken or stalled connection: the primary may or may not have the message
            // (a drop after the final dot). Keep the copy: a possible duplicate, never a loss.
            // The envelope, when known, goes into the journal with the attempt.
            return (new HandOverResult(HandOverOutcome.Deferred, e.Stage, e.Reply, e.Message) { SessionLost = true }, false);
        }
        catch (BareCarriageReturnException e)
        {
            // Note: only if the file changed between the facts and the data (maildir files never
            // do): the chunk with the CR was not written; the session is dropped without the final
            // dot, so the primary discards the partial message.
            return (new HandOverResult(HandOverOutcome.Held, SmtpStage.EndOfData, null, e.Message) { SessionLost = true }, false);
        }
        catch (IOException e)
        {
            // Note: reading the stored copy failed (EIO on a failing disk, say): it stays and is
            // retried. In the middle of DATA the session is abandoned without the final dot, so
            // the primary discards the partial message (RFC 5321 §4.1.1.4: only the dot commits).
            return (new HandOverResult(HandOverOutcome.Deferred, inData ? SmtpStage.EndOfData : SmtpStage.Connect, null,
                $"the stored copy cannot be read: {e.Message}; tried again later") { SessionLost = inData }, false);
        }
        finally
        {
            scope.Dispose();
        }
    }

    /// <summary>
    /// The run stops (a stop, a reload, another worker's 421) with this message's envelope
    /// already sent behind the previous message's end of data: reads the replies to it, which
    /// are on their way, and sends none of its data. A refusal (a 421, a 4xx, a 5xx) is this
    /// message's attempt and is returned to be settled like any other; null when the primary
    /// took the envelope (it now waits for data that will not come: the caller drops the
    /// connection without QUIT and the message, not attempted, stays as it is) or when the
    /// replies do not come (nothing of the message went either way).
    /// </summary>
    public async Task<HandOverResult?> EnvelopeRepliesAsync(PreparedMessage message, CancellationToken cancellationToken)
    {
        try
        {
            return await EnvelopeAsync(message.Envelope, message.Facts, connection.Capabilities.Chunking, sent: true, resetAfterRefusal: false, cancellationToken);
        }
        catch (SmtpSessionException)
        {
            return null;
        }
    }

    private static int ReadFully(SafeFileHandle file, Span<byte> buffer, long offset)
    {
        int total = 0;
        int n;
        while (total < buffer.Length && (n = RandomAccess.Read(file, buffer[total..], offset + total)) > 0)
        {
            total += n;
        }
        return total;
    }

    /// <summary>A message the primary cannot take as it is is held and reported, never rewritten (docs/ARCHITECTURE.md, "The hold path").</summary>
    private string? CannotGoAsItIs(Envelope envelope, MessageFacts facts)
    {
        SmtpCapabilities caps = connection.Capabilities;
        if (facts.CarriageReturn)
        {
            return "the message holds a bare CR (a CR not part of a CRLF line end; RFC 5321 §2.3.8): sent as stored, a primary that ends the data at <CR>.<CR> could read a smuggled second message in it, and removing it would alter the message";
        }
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

    private string MailCommand(Envelope envelope, MessageFacts facts)
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
        return mail;
    }

    /// <summary>
    /// Queues a pipelined envelope (RFC 2920): MAIL, RCPT and DATA, DATA last in the group; with
    /// BDAT no DATA. <paramref name="reset"/> puts an RSET first: behind a last BDAT chunk, whose
    /// refusal leaves the server's state indeterminate until an RSET (RFC 3030 §2), the next
    /// envelope must not depend on how that chunk ends.
    /// </summary>
    private async Task WriteEnvelopeAsync(Envelope envelope, MessageFacts facts, bool chunking, bool reset, CancellationToken cancellationToken)
    {
        string[] lines = [.. reset ? ["RSET"] : Array.Empty<string>(), MailCommand(envelope, facts), $"RCPT TO:<{envelope.Recipient}>", .. chunking ? Array.Empty<string>() : ["DATA"]];
        foreach (string line in lines)
        {
            await connection.WriteLineAsync(line, SmtpStage.MailFrom, cancellationToken);
        }
    }

    /// <param name="sent">the envelope went already, behind the previous message's end of data (with BDAT after an RSET): read its replies only.</param>
    /// <param name="resetAfterRefusal">after a refusal, RSET and go on (false: the connection is dropped next, only classify).</param>
    private async Task<HandOverResult?> EnvelopeAsync(Envelope envelope, MessageFacts facts, bool chunking, bool sent, bool resetAfterRefusal, CancellationToken cancellationToken)
    {
        SmtpCapabilities caps = connection.Capabilities;
        string mail = MailCommand(envelope, facts);
        string rcpt = $"RCPT TO:<{envelope.Recipient}>";
        SmtpReply mailReply, rcptReply, dataReply;
        if (caps.Pipelining || sent)
        {
            if (!sent)
            {
                await WriteEnvelopeAsync(envelope, facts, chunking, reset: false, cancellationToken);
                await connection.FlushAsync(SmtpStage.MailFrom, cancellationToken);
            }
            else if (chunking)
            {
                SmtpReply reset = await connection.ReadReplyAsync(SmtpStage.Reset, connection.CommandTimeout, cancellationToken);
                if (!reset.IsOk)
                {
                    // Note: the session is not in a state we know; nothing of this message was sent.
                    return new HandOverResult(HandOverOutcome.Deferred, SmtpStage.Reset, reset, $"the primary refused RSET: {reset.OneLine}") { SessionLost = true };
                }
            }
            // Note: a 421 ends the session at once (RFC 5321 §3.8): the replies after it never come.
            mailReply = await connection.ReadReplyAsync(SmtpStage.MailFrom, connection.CommandTimeout, cancellationToken);
            if (mailReply.IsServiceClosing)
            {
                return Classify(SmtpStage.MailFrom, mailReply, delivered: false);
            }
            rcptReply = await connection.ReadReplyAsync(SmtpStage.RcptTo, connection.CommandTimeout, cancellationToken);
            if (rcptReply.IsServiceClosing)
            {
                return Classify(SmtpStage.RcptTo, rcptReply, delivered: false);
            }
            if (chunking)
            {
                // Note: the first BDAT waits for these replies: a chunk is never sent into a
                // transaction whose envelope was refused (RFC 3030 §4.2 would allow it).
                return !mailReply.IsOk ? await RefusedAsync(SmtpStage.MailFrom, mailReply, resetAfterRefusal, cancellationToken)
                    : !rcptReply.IsRecipientAccepted ? await RefusedAsync(SmtpStage.RcptTo, rcptReply, resetAfterRefusal, cancellationToken)
                    : null;
            }
            dataReply = await connection.ReadReplyAsync(SmtpStage.Data, connection.CommandTimeout, cancellationToken);
        }
        else
        {
            mailReply = await connection.CommandAsync(SmtpStage.MailFrom, mail, cancellationToken);
            if (!mailReply.IsOk)
            {
                return await RefusedAsync(SmtpStage.MailFrom, mailReply, resetAfterRefusal, cancellationToken);
            }
            rcptReply = await connection.CommandAsync(SmtpStage.RcptTo, rcpt, cancellationToken);
            if (!rcptReply.IsRecipientAccepted)
            {
                return await RefusedAsync(SmtpStage.RcptTo, rcptReply, resetAfterRefusal, cancellationToken);
            }
            if (chunking)
            {
                return null;
            }
            dataReply = await connection.CommandAsync(SmtpStage.Data, "DATA", cancellationToken);
        }
        if (!mailReply.IsOk || !rcptReply.IsRecipientAccepted)
        {
            if (dataReply.IsStartMailInput)
            {
                // Note: the server opened DATA with no valid recipient; abandon the connection
                // rather than send anything into that transaction.
                return new HandOverResult(HandOverOutcome.Deferred, SmtpStage.Data, dataReply, "the primary opened DATA after refusing the envelope") { SessionLost = true };
            }
            return !mailReply.IsOk
                ? await RefusedAsync(SmtpStage.MailFrom, mailReply, resetAfterRefusal, cancellationToken)
                : await RefusedAsync(SmtpStage.RcptTo, rcptReply, resetAfterRefusal, cancellationToken);
        }
        if (!dataReply.IsStartMailInput)
        {
            return await RefusedAsync(SmtpStage.Data, dataReply, resetAfterRefusal, cancellationToken);
        }
        return null;
    }

    private async Task WriteDataAsync(SafeFileHandle file, long offset, byte[]? whole, long length, CancellationToken cancellationToken)
    {
        var encoder = new WireEncoder();
        byte[] output = ArrayPool<byte>.Shared.Rent(WireEncoder.MaxOutput(ChunkSize) + 8);
        byte[]? input = whole is null ? ArrayPool<byte>.Shared.Rent(ChunkSize) : null;
        try
        {
            if (whole is not null)
            {
                for (long done = offset; done < length; done += ChunkSize)
                {
                    int n = (int)Math.Min(ChunkSize, length - done);
                    int encoded = encoder.Encode(whole.AsSpan((int)done, n), output);
                    await connection.WriteAsync(output.AsMemory(0, encoded), SmtpStage.EndOfData, cancellationToken);
                }
            }
            else
            {
                // Note: a large message is streamed chunk by chunk, never loaded whole (peak memory
                // stays near two chunks whatever its size).
                int n;
                while ((n = await RandomAccess.ReadAsync(file, input.AsMemory(0, ChunkSize), offset, cancellationToken)) > 0)
                {
                    offset += n;
                    int encoded = encoder.Encode(input.AsSpan(0, n), output);
                    await connection.WriteAsync(output.AsMemory(0, encoded), SmtpStage.EndOfData, cancellationToken);
                }
            }
            int end = encoder.Finish(output);
            // Note: not flushed here: the next message's envelope may join the final dot's write.
            await connection.WriteAsync(output.AsMemory(0, end), SmtpStage.EndOfData, cancellationToken);
        }
        finally
        {
            if (input is not null)
            {
                ArrayPool<byte>.Shared.Return(input);
            }
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    /// <summary>
    /// The data as BDAT chunks (RFC 3030): the bytes <see cref="WriteDataAsync"/> would send,
    /// minus dot-stuffing and the final dot, in chunks of at most <see cref="BdatChunkSize"/>,
    /// the last one <c>BDAT n LAST</c>. Each count is of the bytes actually encoded, never of
    /// the facts (a count that promised more or fewer bytes than follow would desynchronise the
    /// session). A chunk is sent only when the next byte is known to exist, so the last chunk
    /// is never empty unless the whole content is (<c>BDAT 0 LAST</c>).
    /// </summary>
    private async Task<(HandOverResult Result, bool NextEnvelopeSent)> ChunksAsync(PreparedMessage message, PreparedMessage? next, CancellationToken stopping, CancellationToken cancellationToken)
    {
        SafeFileHandle file = message.File;
        byte[]? whole = message.Whole;
        long offset = message.DataOffset, length = message.Length, wireSize = message.Facts.WireSize;
        var encoder = new WireEncoder(dotStuffing: false);
        int capacity = (int)Math.Clamp(wireSize, 1, Math.Max(1, BdatChunkSize));
        byte[] chunk = ArrayPool<byte>.Shared.Rent(capacity);
        byte[] output = ArrayPool<byte>.Shared.Rent(WireEncoder.MaxOutput(ChunkSize) + 8);
        byte[]? input = whole is null ? ArrayPool<byte>.Shared.Rent(ChunkSize) : null;
        int filled = 0;
        // Adds encoded bytes to the chunk; a full chunk followed by more bytes goes as a middle
        // chunk. Returns the reply that refused a middle chunk, or null.
        async Task<SmtpReply?> AddAsync(int count)
        {
            int done = 0;
            while (done < count)
            {
                if (filled == capacity)
                {
                    await WriteChunkAsync(chunk, filled, last: false, cancellationToken);
                    await connection.FlushAsync(SmtpStage.EndOfData, cancellationToken);
                    SmtpReply reply = await connection.ReadReplyAsync(SmtpStage.EndOfData, connection.CommandTimeout, cancellationToken);
                    if (reply.Code is not (>= 200 and < 300))
                    {
                        return reply;
                    }
                    filled = 0;
                }
                int n = Math.Min(count - done, capacity - filled);
                output.AsSpan(done, n).CopyTo(chunk.AsSpan(filled));
                filled += n;
                done += n;
            }
            return null;
        }
        try
        {
            SmtpReply? refused = null;
            if (whole is not null)
            {
                for (long done = offset; done < length && refused is null; done += ChunkSize)
                {
                    int n = (int)Math.Min(ChunkSize, length - done);
                    refused = await AddAsync(encoder.Encode(whole.AsSpan((int)done, n), output));
                }
            }
            else
            {
                int n;
                while (refused is null && (n = await RandomAccess.ReadAsync(file, input.AsMemory(0, ChunkSize), offset, cancellationToken)) > 0)
                {
                    offset += n;
                    refused = await AddAsync(encoder.Encode(input.AsSpan(0, n), output));
                }
            }
            refused ??= await AddAsync(encoder.FinishContent(output));
            if (refused is not null)
            {
                // Note: a middle chunk refused: the transaction failed (RFC 3030 §2: no more
                // chunks may follow). Nothing was committed.
                return (await ChunkRefusedAsync(refused, cancellationToken), false);
            }
            await WriteChunkAsync(chunk, filled, last: true, cancellationToken);
            bool nextSent = next is not null && !stopping.IsCancellationRequested;
            if (nextSent)
            {
                await WriteEnvelopeAsync(next!.Envelope, next.Facts, chunking: true, reset: true, CancellationToken.None);
            }
            await FlushEndAsync(nextSent, cancellationToken);
            // Note: the last chunk commits the message, as the final dot does: once it is out,
            // no stop and no deadline may cut the wait for its reply (see SendAsync).
            SmtpReply final = await connection.ReadReplyAsync(SmtpStage.EndOfData, dataTimeout, CancellationToken.None);
            if (final.Code is >= 200 and < 300)
            {
                return (HandOverResult.Delivered(final), nextSent);
            }
            if (nextSent && (final.IsTransient || final.IsPermanent))
            {
                // Note: the RSET the primary needs after a refused chunk is already on its way, ahead of the next envelope.
                return (Classify(SmtpStage.EndOfData, final, delivered: false), true);
            }
            return (await ChunkRefusedAsync(final, cancellationToken), false);
        }
        finally
        {
            if (input is not null)
            {
                ArrayPool<byte>.Shared.Return(input);
            }
            ArrayPool<byte>.Shared.Return(output);
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>Queues <c>BDAT n [LAST]</c> and the chunk (written as the buffer fills; the caller flushes the rest).</summary>
    /// <summary>
    /// Sends what is queued: the end of the data (the final dot, or the last BDAT chunk), and,
    /// when <paramref name="withNextEnvelope"/>, the next message's envelope behind it in the
    /// same write (one segment: the primary answers both at once, RFC 2920 §3.1).
    /// </summary>
    /// <remarks>
    /// Note: with the next envelope behind the end of data, a stop or deadline that cut this
    /// write could land after the end of data was out and drop a session whose primary has the
    /// message (a duplicate at the next run). So that write is not cancellable: what is queued
    /// here is at most the connection's buffer (64 KiB; the data before it went in cancellable
    /// writes; the envelope's lines are queued uncancellably too, since a full buffer sends the
    /// end of data ahead of them), and each slice is still bounded by the command timeout, so a stalled primary
    /// holds a stop a few command timeouts at most. Splitting it into two writes instead (the end
    /// of data cancellable, then the envelope) was measured: the primary then answers the end of
    /// data before the envelope arrives, and the hand-over into the sink fell from 0.63x to
    /// 0.28x of smtp-source's rate.
    /// </remarks>
    private Task FlushEndAsync(bool withNextEnvelope, CancellationToken cancellationToken) =>
        connection.FlushAsync(SmtpStage.EndOfData, withNextEnvelope ? CancellationToken.None : cancellationToken);

    private async Task WriteChunkAsync(byte[] chunk, int count, bool last, CancellationToken cancellationToken)
    {
        await connection.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"BDAT {count}{(last ? " LAST" : "")}"), SmtpStage.EndOfData, cancellationToken);
        await connection.WriteAsync(chunk.AsMemory(0, count), SmtpStage.EndOfData, cancellationToken);
    }

    /// <summary>
    /// A chunk answered with anything but 2xx: classified as DATA's final reply would be, then
    /// RSET (RFC 3030 §2: after a failed BDAT the server's state is indeterminate until an RSET).
    /// </summary>
    private async Task<HandOverResult> ChunkRefusedAsync(SmtpReply reply, CancellationToken cancellationToken)
    {
        if (!reply.IsTransient && !reply.IsPermanent)
        {
            // Note: a 1xx or 3xx means nothing to BDAT: the session is not what we think it is.
            return new HandOverResult(HandOverOutcome.Deferred, SmtpStage.EndOfData, reply, $"unexpected reply to BDAT: {reply.OneLine}") { SessionLost = true };
        }
        return await RefusedAsync(SmtpStage.EndOfData, reply, resetAfterRefusal: true, cancellationToken);
    }

    /// <summary>A refusal before the data: classify it, then RSET so the connection can carry the next message.</summary>
    private async Task<HandOverResult> RefusedAsync(SmtpStage stage, SmtpReply reply, bool resetAfterRefusal, CancellationToken cancellationToken)
    {
        HandOverResult result = Classify(stage, reply, delivered: false);
        if (result.SessionLost || !resetAfterRefusal)
        {
            return result;
        }
        SmtpReply reset = await connection.CommandAsync(SmtpStage.Reset, "RSET", cancellationToken);
        return reset.IsOk ? result : result with { SessionLost = true };
    }

    private static HandOverResult Classify(SmtpStage stage, SmtpReply reply, bool delivered)
    {
        if (delivered)
        {
            return HandOverResult.Delivered(reply);
        }
        if (reply.IsServiceClosing)
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

/// <summary>
/// A stored message read and checked (<see cref="MessageSender.PrepareAsync"/>): its open file,
/// its bytes when small (a pooled buffer), where the data starts after the trace headers, its
/// facts and envelope. Disposing it closes the file and returns the buffer.
/// </summary>
public sealed class PreparedMessage : IDisposable
{
    internal PreparedMessage(WaitingMessage message, SafeFileHandle file, byte[]? whole, long length, long dataOffset, MessageFacts facts, Envelope envelope)
    {
        Message = message;
        File = file;
        Whole = whole;
        Length = length;
        DataOffset = dataOffset;
        Facts = facts;
        Envelope = envelope;
    }

    public WaitingMessage Message { get; }

    internal SafeFileHandle File { get; }

    internal byte[]? Whole { get; private set; }

    internal long Length { get; }

    internal long DataOffset { get; }

    public MessageFacts Facts { get; }

    public Envelope Envelope { get; }

    public void Dispose()
    {
        if (Whole is not null)
        {
            ArrayPool<byte>.Shared.Return(Whole);
            Whole = null;
        }
        File.Dispose();
    }
}
