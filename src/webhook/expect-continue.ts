import type { ServerResponse } from 'node:http';

/*
 * A client that sends `Expect: 100-continue` waits for `100 Continue` before it sends the
 * body. Node sends it at once unless the server takes it on ('checkContinue'); the server
 * does, so that a webhook route sends it only once its checks before reading the body have
 * passed (CONTRACT check order): a refused upload (413 on its declared length, 401, 503)
 * is answered without the client being invited to send the body first.
 * https://www.rfc-editor.org/rfc/rfc9110#section-10.1.1
 */
const waiting = new WeakSet<ServerResponse>();

/** `res`'s client waits for `100 Continue`: sent by `sendContinue`, or never when an early answer comes first. */
export function awaitContinue(res: ServerResponse): void {
  waiting.add(res);
}

/** Sends `100 Continue` if `res`'s client waits for it and it was not sent yet. */
export function sendContinue(res: ServerResponse): void {
  if (waiting.delete(res)) res.writeContinue();
}
