import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Rules a brand would run during a campaign: keyword rules in Chinese and English,
 * a postback pair and follow/unfollow, all to MantaGo (the provider the fakes serve).
 */
export const BENCH_RULES = `
defaults:
  provider: mantago
rules:
  - id: coupon
    priority: 10
    when:
      event: message
      text: { contains: [優惠券, 折價券, coupon, promo code] }
    then:
      - add_tag: tag-coupon
  - id: vip
    when:
      event: message
      text: { contains_all: [折扣, 會員] }
    then:
      - add_tag: tag-vip
  - id: subscribe
    when: { event: postback, postback: action=subscribe }
    then:
      - add_tag: tag-newsletter
  - id: unsubscribe
    when: { event: postback, postback: { starts_with: action=unsubscribe } }
    then:
      - remove_tag: tag-newsletter
  - id: follower
    when: { event: follow }
    then:
      - add_tag: tag-follower
  - id: churned
    when: { event: unfollow }
    then:
      - remove_tag: tag-follower
`;

/** A scratch folder for one benchmark run (rules, data, logs), removed by `cleanup`. */
export interface BenchDir {
  root: string;
  rulesDir: string;
  /** A fresh DATA_DIR under root. */
  dataDir(name: string): string;
  logFile(name: string): string;
  cleanup(): void;
}

export function createBenchDir(prefix: string): BenchDir {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `autotag-bench-${prefix}-`));
  const rulesDir = path.join(root, 'rules');
  fs.mkdirSync(rulesDir);
  fs.writeFileSync(path.join(rulesDir, 'campaign.yaml'), BENCH_RULES);
  return {
    root,
    rulesDir,
    dataDir(name) {
      const d = path.join(root, `data-${name}`);
      fs.mkdirSync(d, { recursive: true });
      return d;
    },
    logFile: (name) => path.join(root, `${name}.log`),
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

/** Secrets for one run, made up here (never real ones). */
export function benchSecrets(): { lineSecret: string; mantagoToken: string; mantagoSecret: string } {
  return {
    lineSecret: randomBytes(16).toString('hex'),
    mantagoToken: `bench-token-${randomBytes(8).toString('hex')}`,
    mantagoSecret: `bench-secret-${randomBytes(8).toString('hex')}`,
  };
}

/** One line describing the machine, for the conditions block. */
export function machineLine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at start (the machine is shared)`;
}
