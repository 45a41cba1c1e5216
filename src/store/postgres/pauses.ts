import { DELETE_ENDED_PAUSES, KEEP_PAUSE, PAUSES_AFTER, toPauses } from '../sql/pauses';
import type { PgDb } from './db';

/**
 * Keeps the pause and tells the instances running now, in one transaction: the NOTIFY goes out
 * only once the row is there, so an instance that hears it and one that reads the table later
 * agree. The NOTIFY says `<instance> pause <ms> <account>`, ms counted from `now`: the listener
 * counts them from when it hears it, by its own clock.
 */
export async function sharePausePostgres(db: PgDb, o: { channel: string; instance: string; account: string; until: number; now: number }): Promise<void> {
  await db.tx(async (q) => {
    await q(DELETE_ENDED_PAUSES, [o.now]);
    await q(KEEP_PAUSE, [o.account, o.until]);
    await q('SELECT pg_notify($1, $2)', [o.channel, `${o.instance} pause ${Math.ceil(o.until - o.now)} ${o.account}`]);
  });
}

export async function storedPausesPostgres(db: PgDb, now: number): Promise<Map<string, number>> {
  return toPauses((await db.query(PAUSES_AFTER, [now])).rows);
}
