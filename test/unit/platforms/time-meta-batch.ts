/*
 * Run by meta-webhook.test.ts in a plain Node process (not inside Jest, whose module
 * sandbox makes zod several times slower than it is in production): parses and
 * normalises a 1,000-item Messenger batch and prints the best time of several runs,
 * beside the best time of a bare JSON.parse of the same bytes (the floor any parser has).
 */
import { parseMetaEnvelope } from '../../../src/platforms/meta-envelope';
import { metaToChatEvents } from '../../../src/platforms/meta';

const PAGE = '106938284123456';
const items = Array.from({ length: 1000 }, (_, i) => ({
  sender: { id: String(1_000_000 + (i % 50)) },
  recipient: { id: PAGE },
  timestamp: 1767225600000 + i,
  message: { mid: `m_${i}`, text: `我要優惠券 ${i}`, ...(i % 3 === 0 && { quick_reply: { payload: `Q${i}` } }) },
}));
const raw = Buffer.from(JSON.stringify({ object: 'page', entry: [{ id: PAGE, time: 1767225601000, messaging: items }] }));

function bestOf(runs: number, work: () => void): number {
  let best = Infinity;
  for (let run = 0; run < runs; run += 1) {
    const start = process.hrtime.bigint();
    work();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return best;
}

let events = 0;
const bestMs = bestOf(50, () => {
  events = metaToChatEvents(parseMetaEnvelope(raw), 'facebook').events.length;
});
const jsonParseMs = bestOf(50, () => JSON.parse(raw.toString('utf8')));
process.stdout.write(JSON.stringify({ events, bestMs, jsonParseMs, bytes: raw.length }));
