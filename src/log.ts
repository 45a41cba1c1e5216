import winston from 'winston';

export type Logger = winston.Logger;

const SECRET_KEYS = /^(authorization|x-line-signature|x-hub-signature(-256)?|signature|secret|token|apitoken|apisecret|password|cookie)$/i;

function redactValue(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === 'string') {
    let out = value;
    for (const s of secrets) if (out.includes(s)) out = out.split(s).join('[redacted]');
    return out;
  }
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { name: value.name, message: redactValue(value.message, secrets, depth + 1) };
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEYS.test(k) ? '[redacted]' : redactValue(v, secrets, depth + 1);
  }
  return out;
}

/** Removes secret values (wherever they appear) and secret-named fields from a log entry. */
const redact = winston.format((info, opts: unknown) => {
  const secrets = (opts as { secrets?: readonly string[] } | undefined)?.secrets ?? [];
  for (const key of Object.keys(info)) {
    if (SECRET_KEYS.test(key)) {
      info[key] = '[redacted]';
      continue;
    }
    info[key] = redactValue(info[key], secrets);
  }
  return info;
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
  return winston.createLogger({
    level: opts.level ?? 'info',
    silent: opts.silent ?? false,
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.errors({ stack: false }),
      redact({ secrets: opts.secrets ?? [] }),
      winston.format.json(),
    ),
    transports: [
      opts.stream
        ? new winston.transports.Stream({ stream: opts.stream })
        : new winston.transports.Console(),
    ],
  });
}

/** A logger that writes nothing, for tests and CLI commands that print their own output. */
export function silentLogger(): Logger {
  return createLogger({ silent: true });
}
