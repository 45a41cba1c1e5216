import { createHmac } from 'node:crypto';

/** `X-Line-Signature`: base64 HMAC-SHA256 of the body with the channel secret. */
export function signLine(body: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}

/** `X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the body with the app secret. */
export function signMeta(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
