// Nx runtime input for the stages that record the source (build-meta,
// provenance): HEAD, the tag at HEAD, the remote and whether the tree is dirty.
const { execFileSync } = require('node:child_process');
const git = (...args) => {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
};
const dirty = git('status', '--porcelain', '--untracked-files=normal') !== '';
process.stdout.write(
  [
    `commit=${git('rev-parse', 'HEAD')}`,
    `tag=${git('describe', '--tags', '--exact-match', 'HEAD')}`,
    `remote=${git('remote', 'get-url', 'origin')}`,
    `dirty=${dirty}`,
  ].join('\n') + '\n',
);
