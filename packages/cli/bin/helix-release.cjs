#!/usr/bin/env node
// The helix-release CLI. The packages are TypeScript sources; register
// swc-node (CommonJS output, as Nx does for executors) and run src/cli.ts.
'use strict';
// A reader that stops early (`helix-release verify . | head`) is not an
// error of ours: end quietly instead of printing an EPIPE stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}
require('@swc-node/register/register').register({ module: 1, target: 9, esModuleInterop: true, sourceMap: true });
require('../src/cli.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
