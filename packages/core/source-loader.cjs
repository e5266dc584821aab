// Loads the TypeScript of this source tree as CommonJS, one file at a time,
// with @swc/core's transformSync: the entry points of the source tree
// (packages/*/src/**/*.cjs, bin/) require it before they require a `.ts`.
//
// Why not Nx's own TypeScript registration (swc-node)? It first reads the
// tsconfig through the TypeScript compiler, about half a second in every
// process that loads a `.ts` file: the plugin worker and each task. This hook
// costs the ~25 ms of loading @swc/core. Installed from the tarballs
// (npm run pack:packages), the packages are compiled JavaScript; there only
// a team's release.config.ts goes through this file (core's config.js).
'use strict';
const Module = require('node:module');
const { readFileSync } = require('node:fs');

const extensions = Module._extensions;
// Another loader (swc-node registered by Nx or vitest) is kept: it reads the tsconfig, so it is at least as faithful.
if (!extensions['.ts']) {
  const { transformSync } = require('@swc/core');
  // Stack traces name the TypeScript lines, from the inline source maps.
  process.setSourceMapsEnabled(true);
  extensions['.ts'] = function loadTypeScript(module, filename) {
    const { code } = transformSync(readFileSync(filename, 'utf8'), {
      filename,
      swcrc: false,
      configFile: false,
      sourceMaps: 'inline',
      // As tsconfig.base.json: ES2022, CommonJS with esModuleInterop, as Nx loads executors.
      module: { type: 'commonjs', importInterop: 'swc' },
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    });
    module._compile(code, filename);
  };
}
