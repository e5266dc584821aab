import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { epochToIso, resolveSourceDateEpoch } from './sde';

const COMMIT_TIME = 1_700_000_000; // 2023-11-14T22:13:20Z

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_DATE: `@${COMMIT_TIME - 3600} +0900`, GIT_COMMITTER_DATE: `@${COMMIT_TIME} +0200` },
  });
}

describe('resolveSourceDateEpoch', () => {
  let repo: string;
  let bare: string;
  beforeAll(async () => {
    repo = await mkdtemp(join(tmpdir(), 'helix-sde-repo-'));
    bare = await mkdtemp(join(tmpdir(), 'helix-sde-none-'));
    git(repo, 'init', '-q', '-b', 'main');
    await writeFile(join(repo, 'a.txt'), 'a\n');
    git(repo, 'add', 'a.txt');
    git(repo, 'commit', '-q', '-m', 'fixed time');
  });
  afterAll(async () => {
    await rm(repo, { recursive: true, force: true });
    await rm(bare, { recursive: true, force: true });
  });

  it.each([
    ['1700000000', 1_700_000_000],
    ['0', 0],
    ['315532800', 315_532_800],
  ])('takes SOURCE_DATE_EPOCH=%s from the environment', (raw, seconds) => {
    // Even inside a repository, the environment wins.
    expect(resolveSourceDateEpoch({ SOURCE_DATE_EPOCH: raw }, repo)).toEqual({ seconds, origin: 'environment' });
  });

  it.each(['abc', '-1', '1.5', ' 1', '1e9', '0x10', '1234567890123'])('refuses SOURCE_DATE_EPOCH=%j with SOURCE_DATE_EPOCH_INVALID', (raw) => {
    expect(() => resolveSourceDateEpoch({ SOURCE_DATE_EPOCH: raw }, repo)).toThrow(
      expect.objectContaining({ code: 'SOURCE_DATE_EPOCH_INVALID', message: expect.stringContaining(JSON.stringify(raw)) }),
    );
  });

  it('uses the committer time of HEAD (not the author time, not the zone) when the variable is unset or empty', () => {
    expect(resolveSourceDateEpoch({}, repo)).toEqual({ seconds: COMMIT_TIME, origin: 'git' });
    expect(resolveSourceDateEpoch({ SOURCE_DATE_EPOCH: '' }, repo)).toEqual({ seconds: COMMIT_TIME, origin: 'git' });
  });

  it('fails with SOURCE_DATE_EPOCH_UNAVAILABLE outside a repository', () => {
    // The temp folder must not itself be inside a checkout, or git would find that one.
    expect(() => execFileSync('git', ['rev-parse', '--git-dir'], { cwd: bare, stdio: 'pipe' })).toThrow();
    expect(() => resolveSourceDateEpoch({}, bare)).toThrow(
      expect.objectContaining({ code: 'SOURCE_DATE_EPOCH_UNAVAILABLE', message: expect.stringContaining(bare) }),
    );
  });

  it('fails with SOURCE_DATE_EPOCH_UNAVAILABLE in a repository without commits', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'helix-sde-empty-'));
    try {
      git(empty, 'init', '-q');
      expect(() => resolveSourceDateEpoch({}, empty)).toThrow(expect.objectContaining({ code: 'SOURCE_DATE_EPOCH_UNAVAILABLE' }));
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('epochToIso', () => {
  it.each([
    [0, '1970-01-01T00:00:00Z'],
    [COMMIT_TIME, '2023-11-14T22:13:20Z'],
  ])('%d → %s', (seconds, iso) => {
    expect(epochToIso(seconds)).toBe(iso);
  });
});
