// The plugin's entry in the source tree (package.json "main"): its TypeScript through core's light loader, not Nx's.
require('@helix-release/core/source-loader.cjs');
module.exports = require('./index.ts');
