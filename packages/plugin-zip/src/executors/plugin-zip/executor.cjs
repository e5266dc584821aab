// This executor's entry in the source tree (executors.json): its TypeScript through core's light loader, not Nx's.
require('@helix-release/core/source-loader.cjs');
module.exports = require('./executor.ts');
