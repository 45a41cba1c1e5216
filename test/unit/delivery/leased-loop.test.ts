import { CallDeadlineError } from '../../../src/call-deadline';
import type { CallLease } from '../../../src/delivery/call-lease';
import { LeasedLoop } from '../../../src/delivery/leased-loop';
import { silentLogger } from '../../../src/log';
import { SessionLostError, type InstanceSession } from '../../../src/store/store';

/** A session the test loses and regains, as the PostgreSQL store's would be on a network cut. */
function controllableSession() {
  let controller = new AbortController();
  let live = true;
  const listeners = new Set<(live: boolean) => void>();
  const emit = (v: boolean) => {
    for (const f of [...listeners]) f(v);
  };
  const session: InstanceSession = {
    get live() {
      return live;
    },
    get signal() {
      return controller.signal;
    },
    onChange(f) {
      listeners.add(f);
      return () => listeners.delete(f);
    },
  };
  return {
    session,
    lose() {
      live = false;
      controller.abort(new SessionLostError('cut off'));
      emit(false);
    },
    regain() {
      controller = new AbortController();
      live = true;
      emit(true);
    },
  };
}

interface Item {
  id: number;
}

/** A loop over an in-memory queue whose calls last until they are aborted; `events` tells what happened in order. */
function harness(opts: { callMs?: number; onClaim?: () => void } = {}) {
  const queue: Item[] = [];
  const events: string[] = [];
  const leases = new Map<number, CallLease>();
  const waiters: { what: string; resolve(): void }[] = [];
  const note = (e: string) => {
    events.push(e);
    for (const w of [...waiters]) {
      if (events.includes(w.what)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const loop = new LeasedLoop<Item>({
    name: 'test',
    owner: 'me',
    leaseMs: 60_000,
    callMs: opts.callMs ?? 60_000,
    concurrency: () => 2,
    async claim(limit, owner) {
      const items = queue.splice(0, limit);
      if (items.length > 0) note(`claim ${owner} ${items.map((i) => i.id).join(',')}`);
      opts.onClaim?.();
      return items;
    },
    async handle(item, owner, lease) {
      note(`start ${item.id}`);
      leases.set(item.id, lease);
      await new Promise<void>((resolve) => lease.signal.addEventListener('abort', () => resolve(), { once: true }));
      const reason = lease.signal.reason as Error;
      note(`aborted ${item.id} (${reason.name}${lease.abandoned ? ', abandoned' : ''})`);
      if (!lease.abandoned) await loop.persist(async () => note(`written ${item.id} by ${owner}`), 'an outcome', lease);
    },
    async release(owner) {
      note(`release ${owner}`);
      return 1;
    },
    nextDueAt: async () => null,
    now: Date.now,
    log: silentLogger(),
    logFields: {},
  });
  const seen = (what: string) =>
    new Promise<void>((resolve) => {
      if (events.includes(what)) resolve();
      else waiters.push({ what, resolve });
    });
  return { queue, events, leases, loop, seen };
}

describe('LeasedLoop and the store session', () => {
  it('aborts the calls in flight when the session is lost, claims nothing until a new one, then first releases what the lost one held', async () => {
    const s = controllableSession();
    const h = harness();
    h.queue.push({ id: 1 }, { id: 2 });
    h.loop.start(s.session);
    await Promise.all([h.seen('start 1'), h.seen('start 2')]);

    s.lose();
    await Promise.all([h.seen('aborted 1 (SessionLostError, abandoned)'), h.seen('aborted 2 (SessionLostError, abandoned)')]);
    h.queue.push({ id: 3 });
    for (let i = 0; i < 5; i++) {
      h.loop.wake();
      await new Promise((r) => setImmediate(r));
    }
    expect(h.events.filter((e) => e.startsWith('claim'))).toEqual(['claim me#1 1,2']);

    s.regain();
    await h.seen('start 3');
    // Nothing written for the abandoned calls; their lease token released before the next claim.
    expect(h.events).toEqual([
      'claim me#1 1,2',
      'start 1',
      'start 2',
      'aborted 1 (SessionLostError, abandoned)',
      'aborted 2 (SessionLostError, abandoned)',
      'release me#1',
      'claim me#2 3',
      'start 3',
    ]);
    await h.loop.stop(0);
  });

  it('starts no call for items claimed just before the session was lost', async () => {
    const s = controllableSession();
    let lost = false;
    const h = harness({
      onClaim: () => {
        if (!lost && h.queue.length === 0) {
          lost = true;
          s.lose();
        }
      },
    });
    h.queue.push({ id: 1 });
    h.loop.start(s.session);
    await h.seen('claim me#1 1');
    s.regain();
    await h.seen('release me#1');
    expect(h.events).toEqual(['claim me#1 1', 'release me#1']);
    await h.loop.stop(0);
  });

  it('aborts a call at its call deadline, and writes its outcome as usual', async () => {
    const s = controllableSession();
    const h = harness({ callMs: 50 });
    h.queue.push({ id: 1 });
    h.loop.start(s.session);
    await h.seen('written 1 by me#1');
    expect(h.events).toEqual(['claim me#1 1', 'start 1', 'aborted 1 (CallDeadlineError)', 'written 1 by me#1']);
    expect(h.leases.get(1)?.signal.reason).toBeInstanceOf(CallDeadlineError);
    await h.loop.stop(0);
  });
});
