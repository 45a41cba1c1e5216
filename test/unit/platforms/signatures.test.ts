import { verifyLineSignature } from '../../../src/platforms/line';
import { verifyMetaSignature } from '../../../src/platforms/meta-envelope';
import { signLine, signMeta } from '../../helpers/signatures';
import { fixture } from './fixtures';
import { metaEvents } from './read-webhook';

const LINE_SECRET = 'line-channel-secret-for-tests';
const META_SECRET = 'meta-app-secret-for-tests';

describe('verifyLineSignature', () => {
  const body = fixture('line', 'message-text');

  it('accepts the signature of the exact bytes', () => {
    expect(verifyLineSignature(body, signLine(body, LINE_SECRET), LINE_SECRET)).toBe(true);
  });

  it('rejects a missing or empty header', () => {
    expect(verifyLineSignature(body, undefined, LINE_SECRET)).toBe(false);
    expect(verifyLineSignature(body, '', LINE_SECRET)).toBe(false);
  });

  it('rejects a signature made with another secret', () => {
    expect(verifyLineSignature(body, signLine(body, 'another-secret'), LINE_SECRET)).toBe(false);
  });

  it('rejects a signature of other bytes (one byte changed)', () => {
    const tampered = Buffer.from(body);
    const at = tampered.length - 3;
    tampered.writeUInt8(tampered.readUInt8(at) ^ 1, at);
    expect(verifyLineSignature(tampered, signLine(body, LINE_SECRET), LINE_SECRET)).toBe(false);
  });

  it('rejects garbled and wrong-length signatures without throwing', () => {
    const good = signLine(body, LINE_SECRET);
    for (const garbled of [
      'not base64 at all!',
      good.slice(0, -4),
      `${good}AAAA`,
      `${good} `,
      good.replace(/=$/, ''),
      Buffer.from(signLine(body, LINE_SECRET), 'base64').toString('hex'),
      signMeta(body, LINE_SECRET),
      '\u0000'.repeat(44),
    ]) {
      expect(verifyLineSignature(body, garbled, LINE_SECRET)).toBe(false);
    }
  });

  it('never accepts anything when the secret is empty', () => {
    expect(verifyLineSignature(body, signLine(body, ''), '')).toBe(false);
  });
});

describe('verifyMetaSignature', () => {
  const body = fixture('meta', 'messenger-message');

  it('accepts sha256=<hex> of the exact bytes, in either hex case', () => {
    const header = signMeta(body, META_SECRET);
    expect(verifyMetaSignature(body, header, META_SECRET)).toBe(true);
    expect(verifyMetaSignature(body, `sha256=${header.slice('sha256='.length).toUpperCase()}`, META_SECRET)).toBe(true);
  });

  it('rejects a missing or empty header', () => {
    expect(verifyMetaSignature(body, undefined, META_SECRET)).toBe(false);
    expect(verifyMetaSignature(body, '', META_SECRET)).toBe(false);
  });

  it('rejects a signature made with another secret', () => {
    expect(verifyMetaSignature(body, signMeta(body, 'another-secret'), META_SECRET)).toBe(false);
  });

  it('rejects a signature of other bytes', () => {
    expect(verifyMetaSignature(Buffer.concat([body, Buffer.from(' ')]), signMeta(body, META_SECRET), META_SECRET)).toBe(false);
  });

  it('rejects garbled, wrong-length and wrongly prefixed signatures without throwing', () => {
    const good = signMeta(body, META_SECRET);
    const hex = good.slice('sha256='.length);
    for (const garbled of [
      hex, // no prefix
      `sha1=${hex}`,
      `sha256=${hex.slice(0, -2)}`, // 31 bytes
      `sha256=${hex}00`, // 33 bytes
      `sha256=${hex.slice(0, -1)}`, // odd length
      `sha256=${hex.slice(0, -1)}g`, // not hex
      ` ${good}`,
      `${good},${good}`,
      'sha256=',
      signLine(body, META_SECRET),
    ]) {
      expect(verifyMetaSignature(body, garbled, META_SECRET)).toBe(false);
    }
  });

  it('never accepts anything when the secret is empty', () => {
    expect(verifyMetaSignature(body, signMeta(body, ''), '')).toBe(false);
  });

  it('checks the raw bytes: escaped Chinese and emoji pass as sent, and fail once re-serialized', () => {
    // Meta sends non-ASCII escaped (\u6211\u8981) and '/' as '\/', and signs those bytes.
    const raw = fixture('meta', 'messenger-message-escaped');
    expect(raw.toString('latin1')).toContain('\\u6211\\u8981');
    expect(raw.toString('latin1')).toContain('\\ud83c\\udf81');
    const header = signMeta(raw, META_SECRET);

    expect(verifyMetaSignature(raw, header, META_SECRET)).toBe(true);

    const reserialized = Buffer.from(JSON.stringify(JSON.parse(raw.toString('utf8'))), 'utf8');
    expect(reserialized.equals(raw)).toBe(false);
    expect(verifyMetaSignature(reserialized, header, META_SECRET)).toBe(false);

    // The text itself arrives intact.
    const [event] = metaEvents(raw);
    expect(event?.text).toBe('我要優惠券 🎁 https://example.com/coupon');
  });
});
