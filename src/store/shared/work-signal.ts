import type { Logger } from '../../log';
import type { WorkKind } from '../store';

/** The in-process half of `Store.onWork`: a set of listeners, each called in isolation. */
export interface WorkSignal {
  on(listener: (kind: WorkKind) => void): () => void;
  emit(kind: WorkKind): void;
  readonly size: number;
}

export function createWorkSignal(log: Logger): WorkSignal {
  const listeners = new Set<(kind: WorkKind) => void>();
  return {
    on(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    emit(kind) {
      for (const listener of [...listeners]) {
        try {
          listener(kind);
        } catch (err) {
          // A listener's bug must not undo a commit that already happened.
          log.error('a work listener threw', { kind, err });
        }
      }
    },
    get size() {
      return listeners.size;
    },
  };
}

/** The in-process half of `Store.onPause`: pauses other instances shared, for this one's workers. */
export interface PauseSignal {
  on(listener: (account: string, ms: number) => void): () => void;
  emit(account: string, ms: number): void;
}

export function createPauseSignal(log: Logger): PauseSignal {
  const listeners = new Set<(account: string, ms: number) => void>();
  return {
    on(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    emit(account, ms) {
      for (const listener of [...listeners]) {
        try {
          listener(account, ms);
        } catch (err) {
          log.error('a pause listener threw', { account, err });
        }
      }
    },
  };
}
