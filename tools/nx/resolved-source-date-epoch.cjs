// Nx runtime input: prints the SOURCE_DATE_EPOCH a stage will use (the
// variable, else the commit time of HEAD), so that cache entries follow it.
const { execFileSync } = require('node:child_process');
let value = process.env.SOURCE_DATE_EPOCH;
if (!value) {
  try {
    value = execFileSync('git', ['log', '-1', '--format=%ct'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    value = 'unavailable';
  }
}
process.stdout.write(`SOURCE_DATE_EPOCH=${value}\n`);
