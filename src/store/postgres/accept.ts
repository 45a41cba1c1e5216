import { identityKey, operationKey, personScope, type TagOperation } from '../../tag-operation';
import type { AcceptBatch, AcceptResult } from '../store';
import {
  rememberedFrom,
  arrivedExpired,
  decisionRow,
  groupForwardBodies,
  historyRowOf,
  operationRequest,
  type DecisionRow,
  type HistoryEventRow,
  type OperationRequest,
} from '../shared/accept-rows';
import { num, str, type Row } from '../shared/rows';
import { OPERATION_INSERT_COLUMNS, UPSERT_OPERATION_ON_CONFLICT, wakesWorker, type AcceptEffect } from '../sql/operations';
import { planAccept } from './accept-plan';
import { WORK_KINDS, queuedKinds, type Announcer } from './announcer';
import { acceptInOneStatement, HEAD_WHEN_QUEUED, RANK_IN_KEY, type WorkNotices } from './accept-statement';
import type { PgDb, Query } from './db';

/**
 * A shared commit goes to PostgreSQL as one statement (accept-statement.ts) unless
 * it asks for one operation key differently (another action, event time or lifetime):
 * those are applied one after the other, which the step-by-step path below does (see
 * upsertOperations).
 *
 * Step by step, a commit takes a handful of statements however many webhooks it carries:
 * every list goes in as arrays and is expanded with unnest(). Keys are written in
 * sorted order so two instances committing overlapping batches lock rows in the
 * same order (no deadlock).
 */

const INSERT_SEEN = `
  INSERT INTO seen_events (key, seen_at)
  SELECT * FROM unnest($1::text[], $2::bigint[])
  ON CONFLICT (key) DO NOTHING
  RETURNING key`;

const INSERT_HISTORY_EVENTS = `
  INSERT INTO history_events (received_at, platform, channel, recipient, user_id, event_id, kind, type, text, postback_data, matched, operations, event_at)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[])`;

/** RETURNING yields no row for a key set by a later event (see UPSERT_OPERATION_ON_CONFLICT). */
const UPSERT_OPERATIONS = `
  INSERT INTO operations (${OPERATION_INSERT_COLUMNS})
  SELECT ac, p, k, t, pl, s, u, c, ch, a, 1, 'pending', n, 0, 0, n, n, e, xa, rule, 'queued'
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
              $11::bigint[], $12::bigint[], $13::bigint[], $14::text[])
       AS x(ac, p, k, t, pl, s, u, c, ch, a, n, e, xa, rule)
  ${UPSERT_OPERATION_ON_CONFLICT}
  RETURNING account, provider, kind, tag_id, platform, person_scope, user_id, accept_effect`;

const INSERT_DECISIONS = `
  INSERT INTO history_calls (at, user_id, operation, version, outcome, cause, rule)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[])`;

const ALLOCATE_BODY_IDS = `SELECT nextval(pg_get_serial_sequence('forward_bodies', 'id')) AS id FROM generate_series(1, $1)`;

/** Exported for the test of a race between queueing a forward and completing the head of its key. */
export const INSERT_BODIES = `
  INSERT INTO forward_bodies (id, body, headers, received_at)
  SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::text[], $4::bigint[])`;

export const INSERT_FORWARDS = `
  INSERT INTO forwards (body_id, destination, ordering_key, state, received_at, due_at, attempts, head)
  SELECT b, d, o, 'pending', n, n, 0, ${HEAD_WHEN_QUEUED}
  FROM (SELECT x.*, ${RANK_IN_KEY} FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY AS x(b, d, o, n, ord)) x
  ORDER BY ord`;

interface PendingOp extends OperationRequest {
  batch: number;
  now: number;
}

/** The events of all batches that are new: the first occurrence of a key not seen before. */
async function markNewEvents(q: Query, batches: readonly AcceptBatch[], results: AcceptResult[]): Promise<boolean[][]> {
  const firstSeenAt = new Map<string, number>();
  for (const b of batches) for (const e of b.events) if (!firstSeenAt.has(e.dedupKey)) firstSeenAt.set(e.dedupKey, rememberedFrom(e, b.now));
  const keys = [...firstSeenAt.keys()].sort();
  const inserted = new Set<string>();
  if (keys.length > 0) {
    const { rows } = await q(INSERT_SEEN, [keys, keys.map((k) => firstSeenAt.get(k) ?? 0)]);
    for (const r of rows) inserted.add(str(r.key, 'key'));
  }
  return batches.map((b, i) => {
    const result = results[i] as AcceptResult;
    return b.events.map((e, j) => {
      const isNew = inserted.delete(e.dedupKey); // only the first occurrence counts as new
      if (isNew) {
        result.accepted++;
        result.newEvents.push(j);
      } else result.duplicates++;
      return isNew;
    });
  });
}

async function insertHistory(q: Query, rows: HistoryEventRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof HistoryEventRow>(k: K) => rows.map((r) => r[k]);
  await q(INSERT_HISTORY_EVENTS, [
    col('receivedAt'), col('platform'), col('channel'), col('recipient'), col('userId'), col('eventId'), col('kind'), col('type'),
    col('text'), col('postbackData'), col('matched'), col('operations'), col('eventAt'),
  ]);
}

async function insertDecisions(q: Query, rows: DecisionRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof DecisionRow>(k: K) => rows.map((r) => r[k]);
  await q(INSERT_DECISIONS, [col('at'), col('userId'), col('operation'), col('version'), col('outcome'), col('cause'), col('rule')]);
}

/**
 * Upserts in rounds: round n holds the n-th request for each key, so a key asked
 * for twice in one commit is applied twice, in order (one INSERT may not touch a
 * row twice). Usually there is one round. Returns the requests that found their key
 * set by a later event (superseded).
 */
async function upsertOperations(q: Query, ops: PendingOp[], results: AcceptResult[]): Promise<PendingOp[]> {
  const superseded: PendingOp[] = [];
  const rounds: Map<string, PendingOp>[] = [];
  for (const p of ops) {
    const key = operationKey(p.op);
    let round = rounds.find((r) => !r.has(key));
    if (!round) rounds.push((round = new Map()));
    round.set(key, p);
  }
  for (const round of rounds) {
    const entries = [...round.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const list = entries.map(([, p]) => p);
    const { rows } = await q(UPSERT_OPERATIONS, [
      list.map((p) => p.op.account), list.map((p) => p.op.provider), list.map((p) => p.op.kind), list.map((p) => p.op.tagId),
      list.map((p) => p.op.platform), list.map((p) => personScope(p.op)), list.map((p) => p.op.userId), list.map((p) => p.op.recipient),
      list.map((p) => p.op.channel),
      list.map((p) => p.op.action), list.map((p) => p.now), list.map((p) => p.eventAt), list.map((p) => p.expiresAt), list.map((p) => p.rule),
    ]);
    const unanswered = new Map(round);
    for (const r of rows) {
      const key = keyOfRow(r);
      const p = round.get(key);
      unanswered.delete(key);
      if (p && wakesWorker(str(r.accept_effect, 'accept_effect') as AcceptEffect)) (results[p.batch] as AcceptResult).operationsQueued++;
    }
    superseded.push(...unanswered.values());
  }
  return superseded;
}

function keyOfRow(r: Row): string {
  return identityKey({
    account: str(r.account, 'account'),
    provider: str(r.provider, 'provider') as TagOperation['provider'],
    kind: str(r.kind, 'kind') as TagOperation['kind'],
    tagId: str(r.tag_id, 'tag_id'),
    platform: str(r.platform, 'platform') as TagOperation['platform'],
    personScope: str(r.person_scope, 'person_scope'),
    userId: str(r.user_id, 'user_id'),
  });
}

async function insertForwards(q: Query, batches: readonly AcceptBatch[], results: AcceptResult[]): Promise<void> {
  const groups = batches.flatMap((b, i) => groupForwardBodies(b.forwards).map((g) => ({ ...g, batch: i, now: b.now })));
  if (groups.length === 0) return;
  const { rows } = await q(ALLOCATE_BODY_IDS, [groups.length]);
  const ids = rows.map((r) => num(r.id, 'id'));
  await q(INSERT_BODIES, [ids, groups.map((g) => g.body), groups.map((g) => g.headers), groups.map((g) => g.now)]);
  const fwd = groups.flatMap((g, i) => g.forwards.map((f) => ({ f, bodyId: ids[i] as number, now: g.now })));
  await q(INSERT_FORWARDS, [fwd.map((x) => x.bodyId), fwd.map((x) => x.f.destination), fwd.map((x) => x.f.orderingKey), fwd.map((x) => x.now)]);
  for (const g of groups) (results[g.batch] as AcceptResult).forwardsQueued += g.forwards.length;
}

/** Call inside a transaction. */
async function acceptBatchesInSteps(q: Query, batches: readonly AcceptBatch[]): Promise<AcceptResult[]> {
  const results: AcceptResult[] = batches.map(() => ({ accepted: 0, newEvents: [], duplicates: 0, operationsQueued: 0, forwardsQueued: 0 }));
  const isNew = await markNewEvents(q, batches, results);
  const history: HistoryEventRow[] = [];
  const decisions: DecisionRow[] = [];
  const ops: PendingOp[] = [];
  batches.forEach((b, i) =>
    b.events.forEach((e, j) => {
      if (!isNew[i]?.[j]) return;
      const h = historyRowOf(e, b.now, b.storeText);
      if (h) history.push(h);
      for (const op of e.operations) {
        const r = operationRequest(op, e, b.now);
        if (arrivedExpired(r, b.now)) decisions.push(decisionRow(r, 'arrived_expired', b.now));
        else ops.push({ ...r, batch: i, now: b.now });
      }
    }),
  );
  await insertHistory(q, history);
  const superseded = await upsertOperations(q, ops, results);
  await insertDecisions(q, [...decisions, ...superseded.map((p) => decisionRow(p, 'older_event', p.now))]);
  await insertForwards(q, batches, results);
  return results;
}

export interface PostgresAcceptDeps {
  db: Pick<PgDb, 'tx' | 'statement'>;
  notices: WorkNotices;
  announcer: Announcer;
}

/**
 * Writes the batches in one transaction, in order, and announces the queued work to
 * other instances: with a NOTIFY in the transaction (sent only if it commits) when the
 * announcer allows one now, else by the announcer's NOTIFY at the end of its window.
 */
export async function acceptBatchesPostgres(deps: PostgresAcceptDeps, batches: readonly AcceptBatch[]): Promise<AcceptResult[]> {
  const plan = planAccept(batches);
  const inline = deps.announcer.inline();
  const results = plan.oneStatement
    ? await acceptInOneStatement(deps.db.statement, plan, deps.notices, inline)
    : await deps.db.tx(async (q) => {
        const inSteps = await acceptBatchesInSteps(q, batches);
        const queued = queuedKinds(inSteps);
        for (const kind of WORK_KINDS) {
          if (queued[kind] && inline[kind]) await q('SELECT pg_notify($1, $2)', [deps.notices.channel, deps.notices[kind]]);
        }
        return inSteps;
      });
  deps.announcer.committed(queuedKinds(results), inline);
  return results;
}
