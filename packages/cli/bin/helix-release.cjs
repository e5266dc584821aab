#!/usr/bin/env node
// The helix-release CLI. The packages are TypeScript sources; register
// swc-node (CommonJS output, as Nx does for executors) and run src/cli.ts.
'use strict';
require('@swc-node/register/register').register({ module: 1, target: 9, esModuleInterop: true, sourceMap: true });
require('../src/cli.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
