// Nx runtime input: prints the SOURCE_DATE_EPOCH a stage will use, so that
// cache entries follow it. The variable when set; else, with paths as
// arguments (an artifact's inputs), the time of the last commit that changed
// them (HEAD's when none did yet); else the commit time of HEAD. The same rule
// as resolveSourceDateEpoch in packages/core/src/sde.ts.
const { execFileSync } = require('node:child_process');
const git = (args) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
const paths = process.argv.slice(2);
let value = process.env.SOURCE_DATE_EPOCH;
if (!value) {
  try {
    if (paths.length && git(['rev-parse', '--is-shallow-repository']) === 'true') value = 'unavailable (shallow clone)';
    else value = (paths.length && git(['log', '-1', '--format=%ct', '--', ...paths])) || git(['log', '-1', '--format=%ct']);
  } catch {
    value = 'unavailable';
  }
}
process.stdout.write(`SOURCE_DATE_EPOCH=${value}\n`);
