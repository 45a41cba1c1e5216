import type BetterSqlite3 from 'better-sqlite3';

/**
 * The better-sqlite3 build this Node.js can run.
 *
 * - Node 20 and 22: better-sqlite3 12 (a native addon built for the running Node).
 *   Version 13 needs Node 22 or newer and crashes Node 20 with a segmentation fault.
 * - Node 24 and newer: better-sqlite3 13 (Node-API, prebuilt binaries in the package).
 *   Node 24.19 and later abort the process (`Assertion failed: (env) != nullptr` in
 *   `node::RemoveEnvironmentCleanupHook`) when the garbage collector finalises a
 *   better-sqlite3 12 statement (nodejs/node#65446); version 13 does not use that API.
 *
 * Both have the same JavaScript API; `better-sqlite3-napi` is version 13 installed under
 * a second name (package.json), so one lock file serves every supported Node.js.
 */
export const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/** The package for a Node.js major version (see above). */
export function driverPackageFor(nodeMajor: number): 'better-sqlite3' | 'better-sqlite3-napi' {
  return nodeMajor >= 24 ? 'better-sqlite3-napi' : 'better-sqlite3';
}

export const DRIVER_PACKAGE = driverPackageFor(NODE_MAJOR);

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Database: typeof BetterSqlite3 = require(DRIVER_PACKAGE) as typeof BetterSqlite3;

export default Database;
