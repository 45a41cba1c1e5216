import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { parseChannelsFile } from '../../src/channels/parse-channels-file';
import { formatProblem } from '../../src/rules';
import { lineBody, lineText, recentTimestamp, startHarness, tempDir, type Harness } from '../helpers/app-harness';
import { signLine, signMeta } from '../helpers/signatures';

/*
 * Account names and channel ids are data: names that are also properties of every
 * JavaScript object (`__proto__`, `constructor`, `toString`, `hasOwnProperty`) match the
 * name pattern and must work as any other name, from the file to the tag operation.
 */

const SECRET = (name: string) => `channel-secret-of-${name}`;

/** Each name is an account and a channel using that account (a Meta app for `meta`, else a LINE channel). */
function channelsFile(names: readonly string[], meta: string): string {
  const accounts = names.map((n) => `  ${n}:\n    provider: mantago\n    bot_id: bot-${n}\n    token: \${T}\n    secret: \${T}\n`).join('');
  const channels = names
    .map((n, i) =>
      n === meta
        ? `  - { id: ${n}, platform: meta, app_secret: "\${S${i}}", verify_token: "\${S${i}}", accounts: [${n}] }\n`
        : `  - { id: ${n}, platform: line, secret: "\${S${i}}", accounts: [${n}] }\n`,
    )
    .join('');
  return `accounts:\n${accounts}channels:\n${channels}`;
}

const envOf = (names: readonly string[]): Record<string, string> => ({ T: 'x', ...Object.fromEntries(names.map((n, i) => [`S${i}`, SECRET(n)])) });

const rulesNaming = (account: string) => ({
  'rules.yaml': `defaults: { provider: mantago }
rules:
  - id: coupon
    when: { text: { contains: coupon } }
    then: [{ add_tag: tag-coupon }]
  - id: named-account
    when: { text: { contains: named } }
    then: [{ add_tag: tag-named, account: ${account} }]
  - id: on-constructor
    when: { channel: constructor, text: { contains: ctor } }
    then: [{ add_tag: tag-ctor }]
`,
});

/**
 * Reads the file, serves every channel (a webhook of one user per channel, and one on the
 * `constructor` channel for the rules naming a channel and an account) and answers with
 * the operations of every account: [account, channel, user, tag], sorted.
 */
async function operationsServed(names: readonly string[], meta: string, named: string): Promise<string[][]> {
  const dir = tempDir('autotag-object-names-');
  fs.writeFileSync(path.join(dir, 'channels.yaml'), channelsFile(names, meta));
  let h: Harness | undefined;
  try {
    h = await startHarness({ ...envOf(names), CHANNELS_FILE: path.join(dir, 'channels.yaml') }, rulesNaming(named));
    const app = h.app;
    for (const n of names.filter((x) => x !== meta)) {
      const body = lineBody([lineText('coupon', `U-${n}`)]);
      await request(app).post(`/webhooks/line/${n}`).set('content-type', 'application/json').set('x-line-signature', signLine(body, SECRET(n))).send(body).expect(200, {});
    }
    const body = JSON.stringify({ object: 'page', entry: [{ id: 'PAGE', time: 1, messaging: [{ sender: { id: `P-${meta}` }, recipient: { id: 'PAGE' }, timestamp: recentTimestamp(), message: { mid: 'm-1', text: 'coupon' } }] }] });
    await request(app).post(`/webhooks/meta/${meta}`).set('content-type', 'application/json').set('x-hub-signature-256', signMeta(body, SECRET(meta))).send(body).expect(200, {});
    const check = await request(app).get(`/webhooks/meta/${meta}`).query({ 'hub.mode': 'subscribe', 'hub.verify_token': SECRET(meta), 'hub.challenge': 'c1' });
    expect([check.status, check.text]).toEqual([200, 'c1']);
    const ctor = lineBody([lineText('ctor named', 'U-rules')]);
    await request(app).post('/webhooks/line/constructor').set('content-type', 'application/json').set('x-line-signature', signLine(ctor, SECRET('constructor'))).send(ctor).expect(200, {});
    const ops = [];
    for (const n of names) ops.push(...(await h.store.claimOperations({ scope: { account: n }, limit: 10, owner: 't', now: Date.now(), leaseMs: 30_000 })));
    return ops.map((o) => [o.account, o.channel, o.userId, o.tagId]).sort();
  } finally {
    await h?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const NAMES = ['constructor', 'toString', 'hasOwnProperty'] as const;

describe('accounts and channels named like properties of every object', () => {
  it('are read from the file as any other name', () => {
    const r = parseChannelsFile(channelsFile(NAMES, 'toString'), 'channels.yaml', envOf(NAMES), 'error');
    expect(r.problems.map(formatProblem)).toEqual([]);
    expect(r.channels?.accounts.map((a) => [a.name, a.account.values.bot_id])).toEqual(NAMES.map((n) => [n, `bot-${n}`]));
    expect(r.channels?.channels.map((c) => [c.id, c.accounts])).toEqual(NAMES.map((n) => [n, [n]]));
  });

  it('an undeclared one is still unknown', () => {
    const text = `accounts:\n  constructor: { provider: mantago, bot_id: b, token: "\${T}", secret: "\${T}" }\nchannels:\n  - { id: c, platform: line, secret: "\${S0}", accounts: [toString, hasOwnProperty] }\n`;
    expect(parseChannelsFile(text, 'channels.yaml', envOf(NAMES), 'error').problems.map((p) => p.message)).toEqual([
      'unknown account "toString"; the accounts are constructor',
      'unknown account "hasOwnProperty"; the accounts are constructor',
    ]);
  });

  it("each channel's events go to its own account, and a rule may name either", async () => {
    expect(await operationsServed(NAMES, 'toString', 'hasOwnProperty')).toEqual(
      [
        ['constructor', 'constructor', 'U-constructor', 'tag-coupon'],
        ['constructor', 'constructor', 'U-rules', 'tag-ctor'],
        ['hasOwnProperty', 'constructor', 'U-rules', 'tag-named'],
        ['hasOwnProperty', 'hasOwnProperty', 'U-hasOwnProperty', 'tag-coupon'],
        ['toString', 'toString', 'P-toString', 'tag-coupon'],
      ].sort(),
    );
  });

  // The YAML reader keeps a `__proto__` key as a key (null-prototype maps), so the name works end to end.
  it('an account and a channel named __proto__ work as any other', async () => {
    const names = ['__proto__', 'constructor'];
    expect(parseChannelsFile(channelsFile(names, '__proto__'), 'channels.yaml', envOf(names), 'error').problems.map(formatProblem)).toEqual([]);
    expect(await operationsServed(names, '__proto__', '__proto__')).toEqual(
      [
        ['__proto__', '__proto__', 'P-__proto__', 'tag-coupon'],
        ['__proto__', 'constructor', 'U-rules', 'tag-named'],
        ['constructor', 'constructor', 'U-constructor', 'tag-coupon'],
        ['constructor', 'constructor', 'U-rules', 'tag-ctor'],
      ].sort(),
    );
  });
});
