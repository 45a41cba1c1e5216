/**
 * Baseline: bare node:http — read the body, verify `X-Line-Signature`, 200. No framework,
 * no parsing, nothing stored: the ceiling of any webhook endpoint on this machine.
 */
import { answer, listenBare } from '../lib/bare-http';
import { runChild } from '../lib/run-child';

runChild(async () => {
  const secret = process.env.LINE_CHANNEL_SECRET;
  if (!secret) throw new Error('bare-verify server: LINE_CHANNEL_SECRET is not set');
  return listenBare(secret, (_body, res) => answer(res, 200));
});
