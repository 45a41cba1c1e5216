import winston from 'winston';
import { secretMasker } from './mask-secrets';

// winston's (triple-beam's) keys for an entry's level and its formatted line.
const LEVEL = Symbol.for('level');
const MESSAGE = Symbol.for('message');

export type Logger = winston.Logger;

const SECRET_KEYS = /^(authorization|x-line-signature|x-hub-signature(-256)?|signature|secret|token|apitoken|apisecret|password|cookie)$/i;

type Mask = (text: string) => string;

function redactValue(value: unknown, mask: Mask, depth = 0): unknown {
  if (typeof value === 'string') return mask(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { name: value.name, message: redactValue(value.message, mask, depth + 1) };
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, mask, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEYS.test(k) ? '[redacted]' : redactValue(v, mask, depth + 1);
  }
  return out;
}

/** Masks secret values (mask-secrets.ts: where they appear) and secret-named fields in a log entry. */
const redact = winston.format((info, opts: unknown) => {
  const mask = (opts as { mask?: Mask } | undefined)?.mask ?? ((text: string) => text);
  for (const key of Object.keys(info)) {
    if (SECRET_KEYS.test(key)) {
      info[key] = '[redacted]';
      continue;
    }
    info[key] = redactValue(info[key], mask);
  }
  return info;
});

/**
 * The entry as one JSON line, top-level keys sorted (as winston's json format writes them).
 * Plain JSON.stringify: winston's json format runs a replacer function on every key
 * (safe-stable-stringify's slow path), which made formatting most of a line's cost. What
 * JSON.stringify refuses (a BigInt, a cycle deeper than redaction copies) goes the safe way.
 */
const safeJson = winston.format.json();
const jsonLine = winston.format((info) => {
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(info).sort()) sorted[key] = info[key];
  try {
    (info as Record<symbol, unknown>)[MESSAGE] = JSON.stringify(sorted);
    return info;
  } catch {
    return safeJson.transform(info, safeJson.options);
  }
});

export interface LoggerOptions {
  level?: string;
  secrets?: readonly string[];
  /** Defaults to stdout; tests pass a stream to read the lines back. */
  stream?: NodeJS.WritableStream;
  silent?: boolean;
}

/** JSON lines on stdout, secrets removed. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const logger = winston.createLogger({
    level: opts.level ?? 'info',
    silent: opts.silent ?? false,
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.errors({ stack: false }),
      redact({ mask: secretMasker(opts.secrets ?? []) }),
      jsonLine(),
    ),
    transports: [
      opts.stream
        ? new winston.transports.Stream({ stream: opts.stream })
        : new winston.transports.Console(),
    ],
  });
  if (!opts.stream) writeStraightToStdout(logger);
  return logger;
}

/**
 * The same lines, without winston's stream plumbing in between: an entry goes through the
 * formats above and out to stdout in the call that made it. Winston passes every entry
 * through a Transform stream and a transport stream first, which cost about three times
 * what formatting and writing the line do — paid by every accepted webhook (its
 * `webhook accepted` line) at thousands a second. Child loggers write through this too.
 */
function writeStraightToStdout(logger: Logger): void {
  const { format } = logger;
  const write = (info: winston.Logform.TransformableInfo): boolean => {
    const entry = info as winston.Logform.TransformableInfo & { [LEVEL]?: string };
    // As winston's own write does (an Error logged alone is passed as it is: its message is not an own enumerable key).
    entry[LEVEL] ??= entry.level;
    if (logger.silent || !logger.isLevelEnabled(entry[LEVEL])) return true;
    const out = format.transform(entry, format.options);
    if (out && typeof out === 'object') stdoutLines.add(`${String(out[MESSAGE])}\n`);
    return true;
  };
  (logger as unknown as { write: typeof write }).write = write;
}

/**
 * Log lines go out to stdout together, once per turn of the event loop: stdout to a file or a
 * pipe is a blocking write per call, and at thousands of webhooks a second that was one system
 * call per line (two lines per webhook on `serve`: accepted, applied). Lines are never held past
 * the turn that made them, and whatever is pending when the process exits is written first.
 */
class LineBatch {
  private pending: string[] = [];
  private scheduled = false;
  private exitHooked = false;

  constructor(private readonly write: (text: string) => void) {}

  add(line: string): void {
    this.pending.push(line);
    if (!this.exitHooked) {
      this.exitHooked = true;
      process.once('exit', () => this.flush());
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush()).unref();
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.write(text);
  }
}

const stdoutLines = new LineBatch((text) => {
  process.stdout.write(text);
});

/** A logger that writes nothing, for tests and CLI commands that print their own output. */
export function silentLogger(): Logger {
  return createLogger({ silent: true });
}
