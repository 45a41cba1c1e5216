import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures');

/** The raw bytes of a fixture, exactly as stored (signatures are computed over these). */
export function fixture(platform: 'line' | 'meta' | 'whatsapp', name: string): Buffer {
  return readFileSync(path.join(FIXTURES, platform, `${name}.json`));
}

/** Every fixture of a platform, by name (file name without `.json`). */
export function allFixtures(platform: 'line' | 'meta' | 'whatsapp'): Array<[string, Buffer]> {
  return readdirSync(path.join(FIXTURES, platform))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f.slice(0, -'.json'.length), readFileSync(path.join(FIXTURES, platform, f))]);
}
