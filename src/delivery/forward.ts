import { request, type Dispatcher } from 'undici';
import { BACKSTOP_SLACK_MS, callDeadlineOf, setCallDeadline } from '../call-deadline';
import { bodyStopReason, cutBodyNote, discardBody, readAtMost } from '../providers/bounded-body';
import { redactSecrets } from '../providers/redact';
import { parseRetryAfter } from '../providers/retry-after';

/**
 * Sends one stored webhook to one downstream, byte for byte: the raw body and
 * the original `Content-Type` and signature header, so the downstream's own
 * signature check passes. The answer's body is never read past 64 KiB
 * (CONTRACT.md "Retries"): a 2xx is a success whatever follows it, and of a
 * failure only the start is kept, for the dead letter — the service's secrets masked
 * in it, as in a tag API's answer: a downstream often verifies the forwards with the
 * same channel secret, and a debug error page may print it.
 */
export interface ForwardResult {
  ok: boolean;
  status?: number;
  /** Worth another attempt: network error, timeout, 408, 429, 5xx. */
  retryable: boolean;
  retryAfterMs?: number;
  reason: string;
  bodyExcerpt?: string;
}

export async function sendForward(
  destination: string,
  body: Buffer,
  headers: Record<string, string>,
  opts: { timeoutMs: number; dispatcher?: Dispatcher; signal?: AbortSignal; secrets?: readonly string[] },
): Promise<ForwardResult> {
  // Its lease ended before it could start (the call deadline passed, the session was lost): no request, and the reason says so.
  if (opts.signal && isAborted(opts.signal)) return { ok: false, retryable: true, reason: `not sent to ${hostOf(destination)}: ${reasonOf(opts.signal.reason)}` };
  // The call's own deadline counts an answer that has arrived by then (call-deadline.ts).
  const timeout = new AbortController();
  const deadline = setCallDeadline(() => timeout.abort(), opts.timeoutMs);
  // The worker's signal: its lease's call deadline passed, or the database session was lost.
  const signal = opts.signal ? AbortSignal.any([timeout.signal, opts.signal]) : timeout.signal;
  try {
    const res = await request(destination, {
      method: 'POST',
      body,
      headers: { ...headers, 'user-agent': 'chat-autotag-forwarder' },
      signal,
      dispatcher: opts.dispatcher,
      // Backstops only, later than the deadline above, so that they never act before it (call-deadline.ts).
      headersTimeout: opts.timeoutMs + BACKSTOP_SLACK_MS,
      bodyTimeout: opts.timeoutMs + BACKSTOP_SLACK_MS,
    });
    const status = res.statusCode;
    if (status >= 200 && status < 300) {
      await discardBody(res.body);
      return { ok: true, status, retryable: false, reason: `${status}` };
    }
    const read = await readAtMost(res.body);
    // A body that stopped before its end (the deadline, a reset) leaves the status standing (a
    // 400 is still a dead letter); an abort from outside (the lease lost, the service stopping)
    // is one whatever the status (below).
    const passed = timeout.signal.aborted ? undefined : callDeadlineOf(opts.signal, false);
    if (read.error !== undefined && !timeout.signal.aborted && passed === undefined && opts.signal?.aborted === true) throw read.error;
    const stopped = read.error === undefined ? undefined : passed ? `no more of it before ${passed.message}` : bodyStopReason(read.error, timeout.signal.aborted, `${opts.timeoutMs} ms (FORWARD_TIMEOUT_MS)`);
    const text = read.bytes.toString('utf8');
    const retryable = status === 408 || status === 429 || status >= 500;
    return {
      ok: false,
      status,
      retryable,
      retryAfterMs: parseRetryAfter(res.headers['retry-after'], Date.now()),
      // As a tag API's: a reason that says the body was not read whole (the excerpt is its start).
      reason: `${status} from ${hostOf(destination)}${cutBodyNote(read.complete, stopped)}`,
      // Masked before it is cut, so that no part of a secret is left at the cut.
      bodyExcerpt: redactSecrets(text, opts.secrets ?? []).slice(0, 300),
    };
  } catch (err) {
    const timedOut = timeout.signal.aborted || (err instanceof Error && /timeout/i.test(err.name));
    const abandoned = !timeout.signal.aborted && opts.signal?.aborted === true;
    const passed = timeout.signal.aborted ? undefined : callDeadlineOf(opts.signal, false);
    return {
      ok: false,
      retryable: true,
      reason: passed
        ? `timed out at ${hostOf(destination)}: no answer before ${passed.message} (FORWARD_TIMEOUT_MS)`
        : abandoned
          ? `abandoned at ${hostOf(destination)}: ${reasonOf(opts.signal?.reason)}`
          : timedOut
            ? `timed out after ${opts.timeoutMs} ms (FORWARD_TIMEOUT_MS) at ${hostOf(destination)}`
            : `network error at ${hostOf(destination)}: ${err instanceof Error ? (err as NodeJS.ErrnoException).code ?? err.message : String(err)}`,
    };
  } finally {
    deadline.clear();
  }
}

/** Read through a call, so that the check above narrows nothing: the signal may abort during the request. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

function reasonOf(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid URL';
  }
}
