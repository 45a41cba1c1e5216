/*
 * npm's `prepare`: npm runs it after `npm ci` in a checkout, and also whenever `npx autotag …`
 * installs this checkout into npx's cache to run its bin — on Heroku (`heroku run npx autotag …`)
 * or in the Docker image too, where TypeScript, a dev dependency, has been pruned. With TypeScript
 * it builds dist/ (`npm run build`); without it, the dist/ built at deploy time is used as it is.
 */
const { existsSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function hasTypescript() {
  try {
    require.resolve('typescript/package.json', { paths: [root] });
    return true;
  } catch {
    return false;
  }
}

if (!hasTypescript()) {
  if (existsSync(path.join(root, 'dist', 'cli.js'))) process.exit(0);
  console.error('prepare: dist/ is not built and TypeScript is not installed here: run `npm ci` with the dev dependencies (not --omit=dev) to build it');
  process.exit(1);
}
const npm = process.env.npm_execpath;
const build = npm ? spawnSync(process.execPath, [npm, 'run', 'build'], { cwd: root, stdio: 'inherit' }) : spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: true });
process.exit(build.status ?? 1);
