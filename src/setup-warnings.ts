import path from 'node:path';
import type { ConfiguredAccount } from './channels/configured';
import type { Config } from './config';
import { onPersistentDisk } from './data-disk';
import { andList } from './plural';
import type { SetupWarning, StoreState } from './setup-status';

/*
 * The start-up warnings about the configuration itself (the rule set's are in rule-warnings.ts):
 * part of the setup status that `serve` logs and `/admin` shows (setup-status.ts).
 */

/** Below this many characters METRICS_TOKEN is warned about (ADMIN_TOKEN's minimum, which is enforced). */
const METRICS_TOKEN_ADVISED_LENGTH = 16;

/**
 * A short METRICS_TOKEN is allowed (a scraper's configuration may predate this release) but
 * said: wrong tokens at /metrics are not throttled as /admin's are, so its length is all
 * that stands between /metrics and a guess.
 */
export function metricsTokenWarnings(config: Config): SetupWarning[] {
  const length = config.metricsToken === undefined ? undefined : [...config.metricsToken].length;
  if (length === undefined || length >= METRICS_TOKEN_ADVISED_LENGTH) return [];
  return [
    {
      code: 'short-metrics-token',
      message: `METRICS_TOKEN is ${length} character${length === 1 ? '' : 's'} long: wrong tokens at /metrics are not throttled, so use at least ${METRICS_TOKEN_ADVISED_LENGTH} (\`openssl rand -hex 24\`)`,
    },
  ];
}

/**
 * Accounts that hold the same credential the service rotates on its own (MantaGo's token
 * pair): each account refreshes its pair by itself, and the first refresh retires the pair
 * the other one still sends, so the other's calls meet 401s and its operations become dead
 * letters weeks after a start that looked fine. Said at start, before that happens.
 */
export function sharedCredentialWarnings(config: Config): SetupWarning[] {
  const holders = new Map<string, ConfiguredAccount[]>();
  for (const a of config.accounts) {
    const credential = a.provider.rotatedCredential?.(a.settings);
    if (credential === undefined) continue;
    const key = `${a.provider.name}\u0000${credential}`;
    holders.set(key, [...(holders.get(key) ?? []), a]);
  }
  return [...holders.values()]
    .filter((accounts) => accounts.length > 1)
    .map((accounts) => {
      const title = accounts[0]?.provider.title ?? '';
      return {
        code: 'shared-rotated-credential',
        message:
          `accounts ${andList(accounts.map((a) => a.name))} hold the same ${title} token: each refreshes its token pair on its own, ` +
          `and the first refresh retires the pair ${accounts.length > 2 ? 'the others still send (their' : 'the other still sends (its'} calls then fail with 401 and become dead letters). ` +
          `Use one account for one ${title} bot (channels may share an account), or give each account a pair of its own`,
      };
    });
}

export function diskWarnings(config: Config, store: StoreState, mountInfo: string | undefined): SetupWarning[] {
  if (store.engine !== 'sqlite') return [];
  const warnings: SetupWarning[] = [];
  if (config.dyno) {
    warnings.push({
      code: 'ephemeral-disk-heroku',
      message:
        'WARNING: running on Heroku with the embedded SQLite store. The dyno disk is ephemeral: queued tag operations and forwards are LOST at every dyno restart (at least daily). Set DATABASE_URL to a Heroku Postgres database.',
    });
  }
  if (config.render && onPersistentDisk(path.dirname(store.location), mountInfo) !== true) {
    warnings.push({
      code: 'ephemeral-disk-render',
      message:
        `WARNING: running on Render with the embedded SQLite store, and DATA_DIR (${config.dataDir}) is not on a persistent disk: ` +
        'queued tag operations and forwards are LOST at every deploy and restart. Set DATABASE_URL to a Render PostgreSQL database ' +
        "(render.yaml creates one), or attach a persistent disk and set DATA_DIR to a folder under its mount path.",
    });
  }
  return warnings;
}
