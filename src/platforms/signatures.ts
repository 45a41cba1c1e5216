import { createHmac, timingSafeEqual } from 'node:crypto';
import type { validateSignature } from '@line/bot-sdk';

/*
 * The two signature schemes webhooks arrive with. Both are checked over the exact
 * bytes received (never a re-serialized body); a missing, garbled or wrong signature,
 * or an empty secret, is `false`, never an exception.
 */

export interface SignatureScheme {
  /** Lower-case name of the header carrying the signature (also passed on to forwards). */
  readonly header: string;
  verify(rawBody: Buffer, signature: string | undefined, secret: string): boolean;
}

// LINE signs with HMAC-SHA256 and sends standard base64 with padding: always 44 characters.
const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;

// The SDK is loaded on first use: it takes a noticeable part of a second, and the
// commands that read the configuration (which names this scheme) never verify anything.
let sdkValidate: typeof validateSignature | undefined;
function lineValidate(): typeof validateSignature {
  sdkValidate ??= (require('@line/bot-sdk') as typeof import('@line/bot-sdk')).validateSignature;
  return sdkValidate;
}

/**
 * `X-Line-Signature`: base64 HMAC-SHA256 of the body with the channel secret, checked by the SDK.
 * https://developers.line.biz/en/reference/messaging-api/#signature-validation
 */
export function verifyLineSignature(rawBody: Buffer, signature: string | undefined, channelSecret: string): boolean {
  if (typeof signature !== 'string' || !BASE64_SHA256.test(signature) || channelSecret === '') return false;
  try {
    return lineValidate()(rawBody, channelSecret, signature);
  } catch {
    return false;
  }
}

const META_SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

/**
 * `X-Hub-Signature-256: sha256=<hex>`, in constant time. Meta signs the body as sent,
 * with non-ASCII characters escaped (`\u6211`), so a re-serialized body would not match.
 * https://developers.facebook.com/docs/messenger-platform/webhooks#validate-payloads
 */
export function verifyMetaSignature(rawBody: Buffer, header: string | undefined, appSecret: string): boolean {
  if (typeof header !== 'string' || appSecret === '') return false;
  const hex = META_SIGNATURE.exec(header)?.[1];
  if (hex === undefined) return false;
  const given = Buffer.from(hex, 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export const LINE_SIGNATURE: SignatureScheme = { header: 'x-line-signature', verify: verifyLineSignature };
export const META_SIGNATURE_SCHEME: SignatureScheme = { header: 'x-hub-signature-256', verify: verifyMetaSignature };
