import type { Logger } from '../log';
import { StoreUnavailableError, type AcceptBatch, type AcceptResult, type Store } from '../store/store';

/**
 * Stores one webhook. When the store refuses it for a reason other than being unavailable
 * (a value one engine cannot hold, a bug), one event must not fail the rest (CONTRACT.md,
 * "What an event becomes"): each event is stored alone, then the forwards; an event still
 * refused is logged as an error and left out. An unavailable store fails the webhook (503,
 * the platform retries), and so does a webhook that is a single event, since nothing else in
 * it would be saved by leaving that event out. The forwards come last: a webhook that fails
 * half-way must not have stored them ("nothing answered otherwise" is forwarded); its events
 * stored before the failure are known again when it is redelivered. The price, on this rare
 * path only: forwards go in the order they are stored, so a later webhook of the same person
 * that commits while these events are stored one by one is forwarded first.
 */
export async function acceptWebhook(store: Store, batch: AcceptBatch, log: Logger): Promise<AcceptResult & { refused: number }> {
  try {
    return { ...(await store.accept(batch)), refused: 0 };
  } catch (err) {
    const parts = batch.events.length + (batch.forwards.length > 0 ? 1 : 0);
    if (err instanceof StoreUnavailableError || parts <= 1) throw err;
    log.warn('webhook refused by the store as a whole: storing its events one by one', { error: errorText(err) });
  }
  const total = { accepted: 0, newEvents: [] as number[], duplicates: 0, operationsQueued: 0, forwardsQueued: 0, refused: 0 };
  const add = (r: AcceptResult, index?: number) => {
    total.accepted += r.accepted;
    if (index !== undefined && r.newEvents.length > 0) total.newEvents.push(index);
    total.duplicates += r.duplicates;
    total.operationsQueued += r.operationsQueued;
    total.forwardsQueued += r.forwardsQueued;
  };
  for (const [index, event] of batch.events.entries()) {
    try {
      add(await store.accept({ ...batch, events: [event], forwards: [] }), index);
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      total.refused++;
      log.error('event not stored: the store refused it; the rest of its webhook is stored', { eventId: event.event.eventId.slice(0, 200), platform: event.event.platform, error: errorText(err) });
    }
  }
  if (batch.forwards.length > 0) add(await store.accept({ ...batch, events: [] }));
  return total;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
