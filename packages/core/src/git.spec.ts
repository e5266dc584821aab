import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitStateCommand, readGitState } from './git';

let repo: string;
const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t.invalid', ...args], { cwd: repo, encoding: 'utf8' });

beforeAll(async () => {
  repo = await mkdtemp(join(tmpdir(), 'helix-git-'));
  git('init', '-q', '-b', 'main');
  for (const f of ['release.config.ts', 'old name.txt', 'kept.txt']) await writeFile(join(repo, f), `${f}\n`);
  git('add', '-A');
  git('commit', '-q', '-m', 'one');
});
afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
});

describe('readGitState', () => {
  it('is clean after a commit', async () => {
    expect(await readGitState(repo)).toMatchObject({ dirty: false, changes: [] });
  });

  it('names every change by its whole path: unstaged (" M"), untracked, renamed, with spaces', async () => {
    // An unstaged change: its porcelain line starts with a space, which must not cost the path its first letter.
    await writeFile(join(repo, 'release.config.ts'), 'changed\n');
    await writeFile(join(repo, 'new file.txt'), 'new\n');
    git('mv', 'old name.txt', 'new name.txt');
    const state = await readGitState(repo);
    expect(state.dirty).toBe(true);
    expect(state.changes).toEqual(['new file.txt', 'new name.txt', 'release.config.ts']);
  });
});

describe('gitStateCommand (the Nx runtime input)', () => {
  const state = () => execFileSync('sh', ['-c', gitStateCommand()], { cwd: repo, encoding: 'utf8' });
  it('changes with HEAD, a tag, the remote and each changed path', async () => {
    git('add', '-A');
    git('commit', '-q', '-m', 'two');
    const clean = state();
    expect(clean).toMatch(new RegExp(`^commit=${git('rev-parse', 'HEAD').trim()} tag= remote= ref=refs/heads/main\n$`));
    expect(state()).toBe(clean);
    git('tag', 'v1.0.0');
    const tagged = state();
    expect(tagged).toMatch(/ tag=v1\.0\.0 /);
    git('remote', 'add', 'origin', 'https://example.invalid/r.git');
    expect(state()).toMatch(/ remote=https:\/\/example\.invalid\/r\.git /);
    await writeFile(join(repo, 'kept.txt'), 'edited\n');
    const one = state();
    expect(one).toMatch(/\n M kept\.txt\n$/);
    await writeFile(join(repo, 'another.txt'), 'new\n');
    expect(state()).not.toBe(one);
  });
});
