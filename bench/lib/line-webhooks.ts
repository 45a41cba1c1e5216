import { randomBytes } from 'node:crypto';
import { signLine } from '../../test/helpers/signatures';

/** The channel's bot user id LINE puts in `destination`. */
export const LINE_DESTINATION = 'Ubench000000000000000000000000000';

/** Texts that match the benchmark rules (see bench-env.ts) in Chinese and English, and some that do not. */
const MATCHING = ['我要優惠券', 'Do you have a coupon?', '請給我優惠券謝謝', 'COUPON please', '會員有折扣嗎？'];
const OTHER = ['你好', 'What are your opening hours?', '謝謝 👍'];

export interface SignedWebhook {
  body: Buffer;
  signature: string;
  /** The webhookEventIds inside, in order. */
  eventIds: string[];
  /** The users inside, in order. */
  userIds: string[];
}

export interface LineWebhookOptions {
  secret: string;
  /** Events per webhook (LINE batches events that arrive together). */
  eventsPerWebhook?: number;
  /** Users are `U` + a number below this; events cycle through them. Default: every event its own user. */
  users?: number;
  /** Share of message texts that match a rule (0..1). Default 1: every event becomes a tag operation. */
  matchingShare?: number;
}

/**
 * Builds LINE message webhooks in the format LINE sends
 * (https://developers.line.biz/en/reference/messaging-api/#webhook-event-objects),
 * each event with a unique `webhookEventId`, signed with the channel secret.
 */
export function createLineWebhooks(opts: LineWebhookOptions): { next(): SignedWebhook; readonly events: number } {
  const perWebhook = opts.eventsPerWebhook ?? 1;
  const share = opts.matchingShare ?? 1;
  const run = randomBytes(4).toString('hex').toUpperCase();
  let n = 0;
  const start = Date.now();
  return {
    get events() {
      return n;
    },
    next() {
      const events: Record<string, unknown>[] = [];
      const eventIds: string[] = [];
      const userIds: string[] = [];
      for (let i = 0; i < perWebhook; i++) {
        const seq = n++;
        const userId = `U${String(opts.users === undefined ? seq : seq % opts.users).padStart(32, '0')}`;
        const eventId = `01BENCH${run}${String(seq).padStart(12, '0')}`;
        // Deterministic mix: the first `share` of every 100 events match.
        const matching = seq % 100 < share * 100;
        const pool = matching ? MATCHING : OTHER;
        events.push({
          type: 'message',
          mode: 'active',
          timestamp: start + seq,
          source: { type: 'user', userId },
          webhookEventId: eventId,
          deliveryContext: { isRedelivery: false },
          replyToken: randomBytes(16).toString('hex'),
          message: { id: String(500_000_000 + seq), type: 'text', quoteToken: 'q', text: pool[seq % pool.length] },
        });
        eventIds.push(eventId);
        userIds.push(userId);
      }
      const body = Buffer.from(JSON.stringify({ destination: LINE_DESTINATION, events }));
      return { body, signature: signLine(body, opts.secret), eventIds, userIds };
    },
  };
}
