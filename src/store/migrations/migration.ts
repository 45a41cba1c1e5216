/**
 * One numbered schema step. Steps are applied in order, each once, and recorded
 * in `schema_migrations`; a step is never edited after release — a change is a new step.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * How a store is brought up to date. `existingOnly`: a store that holds none of this service's
 * tables is refused (nothing is created) — for commands that read what the service wrote, which
 * would otherwise create an empty store and report zeros when pointed at the wrong one.
 */
export interface MigrateOptions {
  existingOnly?: boolean;
}

/** What bringing a store up to date did: the steps applied now (in order) and the version it is at. */
export interface MigrationReport {
  applied: { version: number; name: string }[];
  version: number;
}

/** Checks that a list of steps is numbered 1, 2, 3, … so a gap or a repeat fails at start, not in production. */
export function checkMigrations(engine: string, steps: readonly Migration[]): void {
  steps.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Error(`${engine} migrations: step ${i + 1} is numbered ${m.version} ("${m.name}")`);
    }
  });
}

/**
 * A step that failed, said as such: which step, on what, and that nothing of the upgrade
 * was kept (all steps run in one transaction) — the engine's own message alone ("no such
 * column: event_at") did not say that an upgrade had failed, nor which step.
 */
export function stepFailed(where: string, m: Migration, err: unknown): Error {
  const why = err instanceof Error ? err.message : String(err);
  return new Error(
    `store step ${m.version} (${m.name}) failed on ${where}: ${why}; nothing was changed (the upgrade runs in one transaction)`,
    { cause: err },
  );
}
