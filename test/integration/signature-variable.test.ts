import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { lineBody, lineText, startHarness, tempDir, type Harness } from '../helpers/app-harness';
import { signLine, signMeta } from '../helpers/signatures';

/**
 * A 401 for a wrong signature says in the log which variable holds the secret the body
 * was checked with — the environment's, or the `${VAR}` of a channels file channel —
 * and never the secret itself.
 */
describe('the log of a wrong signature names the variable of the secret', () => {
  let h: Harness | undefined;
  let dir: string;
  beforeEach(() => {
    dir = tempDir('autotag-signature-variable-');
  });
  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const rejection = (harness: Harness) => {
    const lines = harness.logs.parsed().filter((l) => String(l.message).startsWith('webhook rejected: signature wrong'));
    expect(lines).toHaveLength(1);
    return lines[0]!;
  };
  const metaBody = JSON.stringify({ object: 'whatsapp_business_account', entry: [] });

  it('LINE: LINE_CHANNEL_SECRET', async () => {
    h = await startHarness({ LINE_CHANNEL_SECRET: 'the-line-secret-value' });
    const body = lineBody([lineText('coupon')]);
    const res = await request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, 'not-the-secret')).send(body);
    expect(res.status).toBe(401);
    expect(rejection(h)).toMatchObject({ message: 'webhook rejected: signature wrong for the secret in LINE_CHANNEL_SECRET', checkedWith: 'LINE_CHANNEL_SECRET', channel: 'line' });
    expect(h.logs.text).not.toContain('the-line-secret-value');
  });

  it('WhatsApp: the variable of its chain that is set (its own, else the Facebook app secret)', async () => {
    h = await startHarness({ FACEBOOK_APP_SECRET: 'the-facebook-secret' });
    let res = await request(h.app).post('/webhooks/whatsapp').set('content-type', 'application/json').set('x-hub-signature-256', signMeta(metaBody, 'wrong-one')).send(metaBody);
    expect(res.status).toBe(401);
    expect(rejection(h)).toMatchObject({ checkedWith: 'FACEBOOK_APP_SECRET', channel: 'whatsapp' });
    await h.cleanup();

    h = await startHarness({ FACEBOOK_APP_SECRET: 'the-facebook-secret', WHATSAPP_APP_SECRET: 'the-whatsapp-secret' });
    res = await request(h.app).post('/webhooks/whatsapp').set('content-type', 'application/json').set('x-hub-signature-256', signMeta(metaBody, 'the-facebook-secret')).send(metaBody);
    expect(res.status).toBe(401);
    expect(rejection(h)).toMatchObject({ message: 'webhook rejected: signature wrong for the secret in WHATSAPP_APP_SECRET', checkedWith: 'WHATSAPP_APP_SECRET' });
    expect(h.logs.text).not.toMatch(/the-facebook-secret|the-whatsapp-secret/);
  });

  it("a channel of the channels file: its ${VARIABLE}, also when POST /webhooks/line routes to it by destination", async () => {
    const file = path.join(dir, 'channels.yaml');
    fs.writeFileSync(
      file,
      'channels:\n  - id: shop\n    platform: line\n    secret: ${SHOP_LINE_SECRET}\n    destination: Ushop\n  - id: brand\n    platform: meta\n    app_secret: ${BRAND_APP_SECRET}\n    verify_token: ${BRAND_VERIFY}\n',
    );
    h = await startHarness({ CHANNELS_FILE: file, SHOP_LINE_SECRET: 'shop-line-secret-value', BRAND_APP_SECRET: 'brand-app-secret-value', BRAND_VERIFY: 'brand-verify-value' });
    const body = lineBody([lineText('coupon')], 'Ushop');
    let res = await request(h.app).post('/webhooks/line/shop').set('content-type', 'application/json').set('x-line-signature', signLine(body, 'wrong')).send(body);
    expect(res.status).toBe(401);
    expect(rejection(h)).toMatchObject({ checkedWith: 'SHOP_LINE_SECRET', channel: 'shop' });

    h.logs.lines.length = 0;
    res = await request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, 'wrong')).send(body);
    expect(res.status).toBe(401);
    expect(rejection(h)).toMatchObject({ checkedWith: 'SHOP_LINE_SECRET', channel: 'shop' });

    h.logs.lines.length = 0;
    res = await request(h.app).post('/webhooks/meta/brand').set('content-type', 'application/json').set('x-hub-signature-256', signMeta(metaBody, 'wrong')).send(metaBody);
    expect(res.status).toBe(401);
    expect(rejection(h)).toMatchObject({ message: 'webhook rejected: signature wrong for the secret in BRAND_APP_SECRET', checkedWith: 'BRAND_APP_SECRET', channel: 'brand' });
    expect(h.logs.text).not.toMatch(/shop-line-secret-value|brand-app-secret-value/);
  });
});
