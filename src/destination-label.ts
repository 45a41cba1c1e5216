/**
 * A forward destination as it is shown — in metric labels, log lines, `autotag dead-letters
 * list` and `/admin`: scheme, host and path only. A destination's user name, password or
 * query string may hold its credentials (a token in the URL is how many chatbot platforms
 * authenticate a webhook); the whole URL stays in the configuration, the store and the
 * dead letters' JSON.
 */
export function destinationLabel(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'invalid';
  }
}
