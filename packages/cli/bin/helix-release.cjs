#!/usr/bin/env node
// The helix-release CLI. Installed from a tarball (npm run pack:packages) it
// runs the compiled src/cli.js; in the source tree the packages are
// TypeScript, so it loads them through core's light loader (CommonJS, as
// the executors are) and runs src/cli.ts.
'use strict';
// A reader that stops early (`helix-release verify . | head`) is not an
// error of ours: end quietly instead of printing an EPIPE stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const compiled = join(__dirname, '..', 'src', 'cli.js');
if (!existsSync(compiled)) require('@helix-release/core/source-loader.cjs');
require(existsSync(compiled) ? compiled : '../src/cli.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
