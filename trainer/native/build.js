// Builds the native back end (npm's install step runs this). It compiles against the running
// Node's own headers, so nothing is downloaded; without them, a compiler or node-gyp, it says so and
// leaves the engine on its TypeScript reference back end.
const { existsSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { spawnSync } = require('node:child_process');

const nodeDir = resolve(process.execPath, '..', '..');
const headers = join(nodeDir, 'include', 'node', 'node_api.h');

function skip(reason) {
  console.warn(
    `whetstone: the native back end was not built (${reason}); training uses the reference back end.`,
  );
  process.exit(0);
}

if (!existsSync(headers)) skip(`no Node headers at ${headers}`);
let nodeGyp;
try {
  nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  skip('node-gyp is not installed');
}
const build = spawnSync(process.execPath, [nodeGyp, 'rebuild', `--nodedir=${nodeDir}`], {
  cwd: __dirname,
  stdio: 'inherit',
});
if (build.status !== 0) skip(`node-gyp exited with ${build.status ?? build.signal}`);
