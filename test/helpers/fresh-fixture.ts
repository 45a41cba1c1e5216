import { recentTimestamp } from './app-harness';

/** The fixtures' payloads were captured around this time (2026-01-01T00:00:00Z). */
const CAPTURED_AT_MS = 1_767_225_600_000;

/**
 * A fixture's raw body with its event times moved to just before now, as if the platform
 * sent it now: events more than 8 days old change nothing (CONTRACT.md), and the test clock
 * is months past the capture. Only the `"timestamp"` values change (milliseconds as numbers,
 * WhatsApp's seconds as strings), by one shift, so their order and every other byte stay.
 */
export function freshFixture(raw: string): string {
  const shiftMs = recentTimestamp() - CAPTURED_AT_MS;
  return raw
    .replace(/"timestamp"(\s*):(\s*)(\d{13})\b/g, (_m, a: string, b: string, ms: string) => `"timestamp"${a}:${b}${Number(ms) + shiftMs}`)
    .replace(/"timestamp"(\s*):(\s*)"(\d{10})"/g, (_m, a: string, b: string, s: string) => `"timestamp"${a}:${b}"${Number(s) + Math.round(shiftMs / 1000)}"`);
}
