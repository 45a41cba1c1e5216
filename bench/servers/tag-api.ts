/**
 * The fake tag API (MantaGo-shaped, counting; see lib/counting-tag-api.ts) in a process
 * of its own, so that answering the worker's calls takes no CPU time from the load
 * generator. BENCH_TAG_LATENCY_MS and BENCH_TAG_TOKEN configure it.
 */
import { CountingTagApi } from '../lib/counting-tag-api';
import { runChild } from '../lib/run-child';

runChild(async () => {
  const token = process.env.BENCH_TAG_TOKEN;
  if (!token) throw new Error('tag-api server: BENCH_TAG_TOKEN is not set');
  const api = await CountingTagApi.start({ latencyMs: Number(process.env.BENCH_TAG_LATENCY_MS ?? 20), token });
  return { port: Number(new URL(api.url).port), stop: () => api.close() };
});
