import { isIPv6 } from 'node:net';

/**
 * Slows down guessing at ADMIN_TOKEN (CONTRACT.md "/admin"): after `maxFailures` wrong
 * tokens from one client within `windowMs`, that client is refused — whatever token it
 * sends — for `blockMs`. Per instance and in memory: several instances each allow
 * their own ten, which still leaves a 16-character token out of reach.
 *
 * Memory stays bounded: at most `maxClients` clients are remembered (each with at most
 * `maxFailures` times); past that the one whose last failure is oldest is forgotten.
 */
export interface ThrottleOptions {
  now: () => number;
  maxFailures?: number;
  windowMs?: number;
  blockMs?: number;
  maxClients?: number;
}

interface ClientState {
  /** Times of the recent failures (within the window), oldest first. */
  failures: number[];
  blockedUntil: number;
}

export class FailureThrottle {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly blockMs: number;
  private readonly maxClients: number;
  /** In order of last failure, oldest first (a failure moves its client to the end). */
  private readonly clients = new Map<string, ClientState>();

  constructor(private readonly opts: ThrottleOptions) {
    this.maxFailures = opts.maxFailures ?? 10;
    this.windowMs = opts.windowMs ?? 60_000;
    this.blockMs = opts.blockMs ?? 60_000;
    this.maxClients = opts.maxClients ?? 10_000;
  }

  /** Milliseconds `client` must still wait before it may present a token again (0: it may). */
  blockedFor(client: string): number {
    const state = this.clients.get(client);
    if (!state) return 0;
    const now = this.opts.now();
    if (state.blockedUntil > now) return state.blockedUntil - now;
    if (this.recent(state, now).length === 0) this.clients.delete(client);
    return 0;
  }

  /** A wrong token from `client`. Returns true when this failure starts a block. */
  failed(client: string): boolean {
    const now = this.opts.now();
    const state = this.clients.get(client) ?? { failures: [], blockedUntil: 0 };
    this.clients.delete(client);
    state.failures = [...this.recent(state, now), now];
    let blocked = false;
    if (state.failures.length >= this.maxFailures) {
      state.blockedUntil = now + this.blockMs;
      state.failures = [];
      blocked = true;
    }
    this.clients.set(client, state);
    while (this.clients.size > this.maxClients) {
      const oldest = this.clients.keys().next().value;
      if (oldest === undefined) break;
      this.clients.delete(oldest);
    }
    return blocked;
  }

  /** The right token: the client's count starts again. */
  succeeded(client: string): void {
    this.clients.delete(client);
  }

  /** How many clients are remembered (for tests of the bound). */
  get size(): number {
    return this.clients.size;
  }

  private recent(state: ClientState, now: number): number[] {
    return state.failures.filter((t) => t > now - this.windowMs);
  }
}

/**
 * The throttle's key for a client address (`req.ip`, as TRUST_PROXY_HOPS derives it): an
 * IPv4 address as it is (also when IPv4-mapped), an IPv6 address by its /64 — one
 * subscriber usually holds a whole /64, and could otherwise rotate through it.
 */
export function clientKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1]!;
  const bare = ip.replace(/%.*$/, '');
  if (!isIPv6(bare)) return ip;
  const [head = '', tail] = bare.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  // An IPv4 tail (::1.2.3.4) counts as two groups; it lies in the last 64 bits, which are dropped.
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups = [...left, ...Array<string>(Math.max(0, 8 - width(left) - width(right))).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
