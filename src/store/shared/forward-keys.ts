import { str, type Row } from './rows';

/** The ordering keys of forwards: each (destination, ordering key) once, as two lists of one length. */
export interface ForwardKeys {
  destinations: string[];
  orderingKeys: string[];
}

/** One key as one string (a destination is a URL, which holds no line break). */
export const forwardKeyOf = (destination: string, orderingKey: string): string => `${destination}\n${orderingKey}`;

/** The keys of `rows` (rows with `destination` and `ordering_key`), each once, in the order first met. */
export function forwardKeysOf(rows: readonly Row[]): ForwardKeys {
  const seen = new Set<string>();
  const keys: ForwardKeys = { destinations: [], orderingKeys: [] };
  for (const row of rows) {
    const destination = str(row.destination, 'destination');
    const orderingKey = str(row.ordering_key, 'ordering_key');
    const key = forwardKeyOf(destination, orderingKey);
    if (seen.has(key)) continue;
    seen.add(key);
    keys.destinations.push(destination);
    keys.orderingKeys.push(orderingKey);
  }
  return keys;
}
