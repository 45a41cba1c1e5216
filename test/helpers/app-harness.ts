import fs from 'node:fs';
import type { AckPressure } from '../../src/delivery/ack-pressure';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createApp, type App } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import { createLogger, type Logger } from '../../src/log';
import { createMetrics, type Metrics } from '../../src/metrics';
import { ruleCatalogue } from '../../src/channels/catalogue';
import { loadRuleSet, formatProblem, type RuleCatalogue, type RuleSet } from '../../src/rules';
import { createPostgresStore } from '../../src/store/postgres';
import { createSqliteStore } from '../../src/store/sqlite';
import { dropSchema, newSchemaName } from './pg-schema';
import type { Store } from '../../src/store/store';

/** A temp dir that is removed by `cleanup`. */
export function tempDir(prefix = 'autotag-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes rule files (name → YAML text) into a fresh folder. */
export function writeRules(files: Record<string, string>): string {
  const dir = tempDir('autotag-rules-');
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** Loads rules from a folder; they may name the channels and accounts of `catalogue`. */
export async function loadRules(dir: string, catalogue?: RuleCatalogue): Promise<RuleSet> {
  const loaded = await loadRuleSet(dir, catalogue ? { catalogue } : {});
  if (!loaded.ruleSet) throw new Error(`test rules are invalid:\n${loaded.problems.map(formatProblem).join('\n')}`);
  return loaded.ruleSet;
}

/** Writes rule files (name → YAML text) into a fresh folder and loads them. */
export async function rulesFrom(files: Record<string, string>): Promise<{ dir: string; ruleSet: RuleSet }> {
  const dir = writeRules(files);
  return { dir, ruleSet: await loadRules(dir) };
}

export const COUPON_RULES = `
defaults:
  provider: mantago
rules:
  - id: coupon
    when:
      event: message
      text: { contains: [優惠券, coupon] }
    then:
      - add_tag: tag-coupon
  - id: unsubscribe
    when:
      postback: action=unsubscribe
    then:
      - remove_tag: tag-newsletter
  - id: churned
    when: { event: unfollow }
    then:
      - add_tag: tag-churned
`;

/** Collects log lines so tests can assert on them (and on what they must not contain). */
export class LogLines {
  readonly lines: string[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _enc, cb) => {
      this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  get text(): string {
    return this.lines.join('\n');
  }
  parsed(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

export interface Harness {
  app: App;
  store: Store;
  config: Config;
  metrics: Metrics;
  log: Logger;
  logs: LogLines;
  ruleSet: RuleSet;
  dataDir: string;
  /** The PostgreSQL schema of the store, on that engine. */
  schema?: string;
  cleanup(): Promise<void>;
}

/** The store a harness runs on: a real SQLite file (the default), or a fresh schema of a real PostgreSQL. */
export type HarnessEngine = { engine: 'sqlite'; file?: string } | { engine: 'postgres'; url: string };

/**
 * The real app over a real SQLite file (or PostgreSQL schema), with the given environment
 * and rules (which may name the channels and accounts of the CHANNELS_FILE the environment names).
 */
export async function startHarness(
  env: Record<string, string>,
  rules: Record<string, string> = { 'rules.yaml': COUPON_RULES },
  on: HarnessEngine = { engine: 'sqlite' },
  deps: { ackPressure?: AckPressure } = {},
): Promise<Harness> {
  const dataDir = tempDir('autotag-data-');
  const dir = writeRules(rules);
  const config = loadConfig({ DATA_DIR: dataDir, RULES_DIR: dir, ...env });
  const ruleSet = await loadRules(dir, ruleCatalogue(config.channelsFile));
  const logs = new LogLines();
  const log = createLogger({ level: env.LOG_LEVEL ?? 'info', stream: logs.stream, secrets: Object.values(env).filter((v) => v.length >= 4) });
  const schema = on.engine === 'postgres' ? newSchemaName('autotag_h') : undefined;
  const store =
    on.engine === 'postgres'
      ? createPostgresStore({ url: on.url, schema, log, poolSize: 4, connectTimeoutMs: 5000, statementTimeoutMs: 10_000 })
      : createSqliteStore({ file: on.file ?? path.join(dataDir, 'autotag.db'), log });
  await store.migrate();
  const metrics = createMetrics({ status: () => store.status(Date.now()), collectDefault: false });
  const app = createApp({ config, log, metrics, store, rules: { current: () => ruleSet }, ackPressure: deps.ackPressure });
  return {
    app,
    store,
    config,
    metrics,
    log,
    logs,
    ruleSet,
    dataDir,
    schema,
    async cleanup() {
      await store.close();
      if (on.engine === 'postgres' && schema) await dropSchema(on.url, schema);
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

let seq = 0;
let lastTimestamp = 0;
/**
 * An event time as a platform would send it now: a minute before the (test) clock, and
 * later than every time this helper gave before, so events made in order are in order.
 * Events more than 8 days old change nothing (CONTRACT.md), so tests never use fixed old times.
 */
export function recentTimestamp(): number {
  lastTimestamp = Math.max(Date.now() - 60_000, lastTimestamp + 1);
  return lastTimestamp;
}

/** A LINE text message event in the format LINE sends (https://developers.line.biz/en/reference/messaging-api/#message-event). */
export function lineText(text: string, userId = 'U4af4980629', extra: Record<string, unknown> = {}): Record<string, unknown> {
  seq++;
  return {
    type: 'message',
    mode: 'active',
    timestamp: recentTimestamp(),
    source: { type: 'user', userId },
    webhookEventId: `01HTEST${String(seq).padStart(10, '0')}${Math.random().toString(36).slice(2, 8).toUpperCase()}`,
    deliveryContext: { isRedelivery: false },
    replyToken: `reply-${seq}`,
    message: { id: String(100000 + seq), type: 'text', quoteToken: 'q', text },
    ...extra,
  };
}

export function lineBody(events: Record<string, unknown>[], destination = 'Udeadbeefdeadbeefdeadbeefdeadbeef'): string {
  return JSON.stringify({ destination, events });
}
