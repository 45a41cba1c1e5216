/**
 * Fake tag APIs for tests: real HTTP servers on 127.0.0.1 (port 0).
 *
 * - `startFakeTagApi()` — a plain recording server (200 `{"success":true}` unless scripted).
 * - `startFakeMantago()` — MantaGo's OpenAPI with tag state and token rotation.
 * - `startFakeBotbonnie()` — BotBonnie's user tag and tag administration API with state.
 * - `makeJwt`, `jwtExpiringIn` — tokens with a chosen `exp`.
 * - `createMemorySettingsStore()` — getSetting/setSetting/withLock in memory.
 *
 * Every fake records requests (`requests`), takes scripted answers (`enqueue`,
 * `enqueueFor`: status, body, headers such as Retry-After, delay, dropped connection),
 * waits for events (`waitFor(count | predicate)`), detects two requests for one key in
 * flight at once (`overlaps`), and can add latency or a 429 rate limit.
 */
import { FakeTagApi, type FakeTagApiOptions } from './fake-tag-server';

export {
  FakeTagApi,
  parseJson,
  type FakeTagApiOptions,
  type Overlap,
  type RecordedRequest,
  type Responder,
  type ScriptedResponse,
} from './fake-tag-server';

/** Starts a plain fake: every request gets 200 `{"success":true}` unless scripted otherwise. */
export function startFakeTagApi(opts: FakeTagApiOptions = {}): Promise<FakeTagApi> {
  return FakeTagApi.start(opts);
}

export { startFakeMantago, FakeMantago, mantagoError, type FakeMantagoOptions } from './fake-mantago';
export { startFakeBotbonnie, FakeBotbonnie, botbonnieError, type FakeBotbonnieOptions } from './fake-botbonnie';
export { makeJwt, jwtExpiringIn } from './fake-jwt';
export { createMemorySettingsStore, type MemorySettingsStore } from './fake-settings-store';
