import type { BenchDir } from './bench-env';

export interface ServiceEnvOptions {
  dir: BenchDir;
  /** DATA_DIR name under the bench folder (SQLite runs). */
  data: string;
  lineSecret: string;
  /** The fake tag API: a CountingTagApi here, or one in a process of its own (anything with its base URL). */
  api?: { tagApi: { baseUrl: string }; token: string; secret: string };
  /** PostgreSQL instead of SQLite. */
  postgres?: { url: string; schema: string };
  extra?: Record<string, string>;
}

/** The environment `autotag serve` gets in a benchmark: as in production (LOG_LEVEL=info); the service picks a free port (servers/service.ts). */
export function serviceEnv(o: ServiceEnvOptions): Record<string, string> {
  return {
    LOG_LEVEL: 'info',
    RULES_DIR: o.dir.rulesDir,
    DATA_DIR: o.dir.dataDir(o.data),
    LINE_CHANNEL_SECRET: o.lineSecret,
    ...(o.api
      ? { MANTAGO_BASE_URL: o.api.tagApi.baseUrl, MANTAGO_TOKEN: o.api.token, MANTAGO_SECRET: o.api.secret, MANTAGO_BOT_ID: 'bench-bot' }
      : {}),
    ...(o.postgres ? { DATABASE_URL: o.postgres.url, DATABASE_SCHEMA: o.postgres.schema } : {}),
    ...o.extra,
  };
}

/** Reads one series of the service's /metrics (summed over label sets that contain every `labels` pair). */
export async function metricValue(url: string, name: string, labels: Record<string, string>): Promise<number> {
  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
