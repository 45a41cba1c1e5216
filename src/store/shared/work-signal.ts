import type { Logger } from '../../log';
import type { PauseNews, WorkKind } from '../store';

/** A set of listeners, each called in isolation: one that throws is logged, and the others still run. */
export interface Signal<Args extends unknown[]> {
  on(listener: (...args: Args) => void): () => void;
  emit(...args: Args): void;
  readonly size: number;
}

/** The in-process half of `Store.onWork`. */
export type WorkSignal = Signal<[kind: WorkKind]>;
/** The in-process half of `Store.onPause`: pauses other instances shared, for this one's workers. */
export type PauseSignal = Signal<[news: PauseNews]>;

// A listener's bug must not undo a commit that already happened, nor keep the other listeners from hearing.
export const createWorkSignal = (log: Logger): WorkSignal => createSignal<[kind: WorkKind]>(log, 'a work listener threw', (kind) => ({ kind }));
export const createPauseSignal = (log: Logger): PauseSignal =>
  createSignal<[news: PauseNews]>(log, 'a pause listener threw', (news) => ({ ...news }));

function createSignal<Args extends unknown[]>(log: Logger, threw: string, context: (...args: Args) => Record<string, unknown>): Signal<Args> {
  const listeners = new Set<(...args: Args) => void>();
  return {
    on(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    emit(...args) {
      for (const listener of [...listeners]) {
        try {
          listener(...args);
        } catch (err) {
          log.error(threw, { ...context(...args), err });
        }
      }
    },
    get size() {
      return listeners.size;
    },
  };
}
