import type { AcceptResult } from '../store';
import { personScope } from '../../tag-operation';
import { groupForwardBodies } from '../shared/accept-rows';
import { OPERATION_INSERT_COLUMNS, UPSERT_OPERATION_ON_CONFLICT } from '../sql/operations';
import type { AcceptPlan } from './accept-plan';
import type { Announcements } from './announcer';
import type { PreparedQuery, SqlParam } from './db';

/**
 * A whole shared commit as ONE statement (data-modifying CTEs), so it is its own
 * transaction and costs one round trip instead of one per step. While a commit is
 * in flight every other webhook waits for it, so its round trips set the pace.
 *
 * The order inside the statement matters for locks between instances: the output
 * reads `seen` first (so every event key is locked before any operation row), and
 * operations are written in the plan's sorted key order, as the multi-statement
 * path does. A key asked for again in this commit by the same request (action, event
 * time, lifetime) coalesces into the first one (DISTINCT ON), as applying it twice in
 * order would; other repeats go step by step (see accept-plan.ts).
 */

const SEEN = `
  seen AS (
    INSERT INTO seen_events (key, seen_at)
    SELECT * FROM unnest($1::text[], $2::bigint[])
    ON CONFLICT (key) DO NOTHING
    RETURNING key
  )`;

const HISTORY = `
  hist AS (
    INSERT INTO history_events (received_at, platform, channel, recipient, user_id, event_id, kind, type, text, postback_data, matched, operations, event_at)
    SELECT h.n, h.pl, h.ch, h.c, h.u, h.e, h.k, h.t, h.txt, h.pb, h.m, h.o, h.ea
    FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                $12::text[], $13::text[], $14::text[], $15::text[], $40::bigint[]) WITH ORDINALITY AS h(key, n, pl, ch, c, u, e, k, t, txt, pb, m, o, ea, ord)
    WHERE h.key IN (SELECT key FROM seen)
    ORDER BY h.ord
  )`;

/**
 * Requests of new events only; per key (rank) the first one, in rank order (= sorted
 * key order). The upsert returns no row for a key set by a later event: every request
 * for it is recorded as superseded, and adds that arrived expired as expired.
 */
const OPERATIONS = `
  asked_all AS (
    SELECT x.* FROM unnest($16::text[], $17::int[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::text[],
                           $24::text[], $25::text[], $26::text[], $27::bigint[], $30::bigint[], $31::bigint[], $32::text[], $33::text[],
                           $34::text[])
                    WITH ORDINALITY AS x(key, r, ac, p, k, t, pl, c, u, ch, a, n, e, xa, rule, op, s, ord)
    WHERE x.key IN (SELECT key FROM seen)
  ),
  asked AS (
    SELECT DISTINCT ON (r) * FROM asked_all ORDER BY r, ord
  ),
  ops AS (
    INSERT INTO operations (${OPERATION_INSERT_COLUMNS})
    SELECT ac, p, k, t, pl, s, u, c, ch, a, 1, 'pending', n, 0, 0, n, n, e, xa, rule, 'queued' FROM asked ORDER BY r
    ${UPSERT_OPERATION_ON_CONFLICT}
    RETURNING account, provider, kind, tag_id, platform, person_scope, user_id, accept_effect
  ),
  applied AS (
    SELECT a.r, ops.accept_effect FROM ops JOIN asked a
      ON (a.ac, a.p, a.k, a.t, a.pl, a.s, a.u) = (ops.account, ops.provider, ops.kind, ops.tag_id, ops.platform, ops.person_scope, ops.user_id)
  ),
  decisions AS (
    INSERT INTO history_calls (at, user_id, operation, version, outcome, cause, rule)
    SELECT n, u, op, 0, 'superseded', 'older_event', NULL FROM asked_all WHERE r NOT IN (SELECT r FROM applied)
    UNION ALL
    SELECT d.n, d.u, d.op, 0, 'expired', 'arrived_expired', d.rule
    FROM unnest($35::text[], $36::bigint[], $37::text[], $38::text[], $39::text[]) AS d(key, n, u, op, rule)
    WHERE d.key IN (SELECT key FROM seen)
  )`;

/**
 * Forwards are queued from a list `x` with columns d (destination), o (ordering key) and ord
 * (its place): RANK_IN_KEY numbers each key's forwards in the list, and a forward is queued as
 * its key's head (sql/forwards.ts, isForwardHead) when it is the first of its key in the list
 * and none of its key waits already. Rows of one statement do not see each other: without the
 * rank, every forward of one person in one commit would be marked.
 */
export const RANK_IN_KEY = 'ROW_NUMBER() OVER (PARTITION BY d, o ORDER BY ord) AS rank_in_key';
export const HEAD_WHEN_QUEUED = `
  CASE WHEN x.rank_in_key = 1 AND NOT EXISTS (SELECT 1 FROM forwards k WHERE k.destination = x.d AND k.ordering_key = x.o AND k.state = 'pending')
  THEN 1 ELSE 0 END`;

/** Body ids are taken first so every forward can point at its body within the statement. */
const FORWARDS = `
  body_ids AS (
    SELECT nextval(pg_get_serial_sequence('forward_bodies', 'id')) AS id, g FROM generate_series(1, $41::int) AS g
  ),
  bodies AS (
    INSERT INTO forward_bodies (id, body, headers, received_at)
    SELECT i.id, b.body, b.headers, b.n
    FROM unnest($42::bytea[], $43::text[], $44::bigint[]) WITH ORDINALITY AS b(body, headers, n, g) JOIN body_ids i USING (g)
  ),
  fwds AS (
    INSERT INTO forwards (body_id, destination, ordering_key, state, received_at, due_at, attempts, head)
    SELECT i.id, x.d, x.o, 'pending', x.n, x.n, 0, ${HEAD_WHEN_QUEUED}
    FROM (SELECT f.*, ${RANK_IN_KEY} FROM unnest($45::int[], $46::text[], $47::text[], $48::bigint[]) WITH ORDINALITY AS f(g, d, o, n, ord)) x
    JOIN body_ids i USING (g)
    ORDER BY x.ord
  )`;

/**
 * The output row: the event keys that were new, the ranks of the operation keys
 * that were inserted or changed for the worker (queued or retimed; a row only touched
 * — the same request again — or set by a later event is not), and NOTIFY for other
 * instances — operations only when there is something for them, and either kind only
 * when its payload ($29, $49) is given (the announcer paces them: announcer.ts).
 * The target list is evaluated left to right: `fresh` runs `seen` to the end first.
 */
const RESULT = (withForwards: boolean) => `
  SELECT
    ARRAY(SELECT key FROM seen) AS fresh,
    ARRAY(SELECT r FROM applied WHERE accept_effect <> 'touched') AS queued,
    (SELECT pg_notify($28, $29) WHERE $29::text IS NOT NULL AND EXISTS (SELECT 1 FROM applied WHERE accept_effect <> 'touched')) IS NOT NULL AS notified_operations
    ${withForwards ? ', (SELECT pg_notify($28, $49) WHERE $49::text IS NOT NULL) IS NOT NULL AS notified_forwards' : ''}`;

const ACCEPT_WITHOUT_FORWARDS = `WITH ${[SEEN, HISTORY, OPERATIONS].join(',')} ${RESULT(false)}`;
const ACCEPT_WITH_FORWARDS = `WITH ${[SEEN, HISTORY, OPERATIONS, FORWARDS].join(',')} ${RESULT(true)}`;

/** Where NOTIFY goes and what it says for each kind of work (see postgres.ts). */
export interface WorkNotices {
  channel: string;
  operations: string;
  forwards: string;
}

function forwardParams(plan: AcceptPlan): SqlParam[] {
  const groups = plan.batches.flatMap((b) => groupForwardBodies(b.forwards).map((g) => ({ ...g, now: b.now })));
  const fwd = groups.flatMap((g, i) => g.forwards.map((f) => ({ f, group: i + 1, now: g.now })));
  return [
    groups.length,
    groups.map((g) => g.body), groups.map((g) => g.headers), groups.map((g) => g.now),
    fwd.map((x) => x.group), fwd.map((x) => x.f.destination), fwd.map((x) => x.f.orderingKey), fwd.map((x) => x.now),
  ];
}

/** Runs the plan as one statement, its own transaction; it sends a NOTIFY only for the kinds `announce` says. */
export async function acceptInOneStatement(q: PreparedQuery, plan: AcceptPlan, notices: WorkNotices, announce: Announcements): Promise<AcceptResult[]> {
  const h = plan.history;
  const o = plan.operations;
  const x = plan.expired;
  const withForwards = plan.batches.some((b) => b.forwards.length > 0);
  const params: SqlParam[] = [
    plan.seenKeys, plan.seenAt,
    h.map((r) => r.key), h.map((r) => r.row.receivedAt), h.map((r) => r.row.platform), h.map((r) => r.row.channel), h.map((r) => r.row.recipient),
    h.map((r) => r.row.userId), h.map((r) => r.row.eventId), h.map((r) => r.row.kind), h.map((r) => r.row.type),
    h.map((r) => r.row.text), h.map((r) => r.row.postbackData), h.map((r) => r.row.matched), h.map((r) => r.row.operations),
    o.map((r) => r.key), o.map((r) => r.rank), o.map((r) => r.op.account), o.map((r) => r.op.provider), o.map((r) => r.op.kind),
    o.map((r) => r.op.tagId), o.map((r) => r.op.platform), o.map((r) => r.op.recipient), o.map((r) => r.op.userId), o.map((r) => r.op.channel),
    o.map((r) => r.op.action), o.map((r) => r.now),
    notices.channel, announce.operations ? notices.operations : null,
    o.map((r) => r.eventAt), o.map((r) => r.expiresAt), o.map((r) => r.rule), o.map((r) => JSON.stringify(r.op)), o.map((r) => personScope(r.op)),
    x.map((d) => d.key), x.map((d) => d.row.at), x.map((d) => d.row.userId), x.map((d) => d.row.operation), x.map((d) => d.row.rule),
    h.map((r) => r.row.eventAt),
    ...(withForwards ? [...forwardParams(plan), announce.forwards ? notices.forwards : null] : []),
  ];
  const { rows } = await (withForwards
    ? q('autotag_accept_with_forwards', ACCEPT_WITH_FORWARDS, params)
    : q('autotag_accept', ACCEPT_WITHOUT_FORWARDS, params));
  const [row] = rows;
  if (!row || !Array.isArray(row.fresh) || !Array.isArray(row.queued)) {
    throw new Error('PostgreSQL accept: the statement did not return the new event keys and queued operations');
  }
  return plan.results(new Set(row.fresh as string[]), new Set((row.queued as unknown[]).map(Number)));
}
