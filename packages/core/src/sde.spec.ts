import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { epochToIso, resolveSourceDateEpoch, shellWord, sourceDateEpochCommand } from './sde';

const COMMIT_TIME = 1_700_000_000; // 2023-11-14T22:13:20Z

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_DATE: `@${COMMIT_TIME - 3600} +0900`, GIT_COMMITTER_DATE: `@${COMMIT_TIME} +0200` },
  });
}

describe("an artifact's own clock (paths)", () => {
  let repo: string;
  const at = (when: number, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args], {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_DATE: `@${when} +0000`, GIT_COMMITTER_DATE: `@${when} +0000` },
    });
  beforeAll(async () => {
    repo = await mkdtemp(join(tmpdir(), 'helix-sde-paths-'));
    at(COMMIT_TIME, 'init', '-q', '-b', 'main');
    for (const dir of ['plugins/a', 'plugins/b', 'packages/core']) execFileSync('mkdir', ['-p', join(repo, dir)]);
    for (const f of ['plugins/a/x.py', 'plugins/b/y.py', 'packages/core/z.ts']) await writeFile(join(repo, f), `${f}\n`);
    at(COMMIT_TIME, 'add', '-A');
    at(COMMIT_TIME, 'commit', '-q', '-m', 'all');
    await writeFile(join(repo, 'plugins/b/y.py'), 'changed\n');
    at(COMMIT_TIME + 86_400, 'commit', '-q', '-am', 'b only');
  });
  afterAll(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  it.each<[string, string[], number]>([
    ['a commit elsewhere leaves an artifact its time', ['plugins/a', 'packages/core'], COMMIT_TIME],
    ['the artifact the commit changed gets the commit time', ['plugins/b', 'packages/core'], COMMIT_TIME + 86_400],
    ['paths no commit touched yet fall back to HEAD', ['plugins/new'], COMMIT_TIME + 86_400],
    ['no paths: HEAD', [], COMMIT_TIME + 86_400],
  ])('%s', (_what, paths, seconds) => {
    expect(resolveSourceDateEpoch({}, repo, paths)).toEqual({ seconds, origin: 'git' });
  });

  const runtimeInput = (paths: string[], env: NodeJS.ProcessEnv = {}, cwd = repo) =>
    execFileSync('sh', ['-c', sourceDateEpochCommand(paths)], { cwd, encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: '', ...env } });

  it('is what the Nx runtime input reports, so cache entries follow the same clock', () => {
    for (const paths of [['plugins/a', 'packages/core'], ['plugins/b'], ['plugins/new']]) {
      expect(runtimeInput(paths), paths.join(' ')).toBe(`SOURCE_DATE_EPOCH=${resolveSourceDateEpoch({}, repo, paths).seconds} shallow=false\n`);
    }
    expect(runtimeInput([])).toBe(`SOURCE_DATE_EPOCH=${resolveSourceDateEpoch({}, repo).seconds}\n`);
    // The variable wins, as in the stage.
    expect(runtimeInput(['plugins/a'], { SOURCE_DATE_EPOCH: '5' })).toBe('SOURCE_DATE_EPOCH=5 shallow=false\n');
    expect(runtimeInput([], { SOURCE_DATE_EPOCH: '5' })).toBe('SOURCE_DATE_EPOCH=5\n');
  });

  it('quotes every path for the shell', () => {
    expect(shellWord('plugins/a')).toBe('plugins/a');
    expect(shellWord("it's $HOME `x`")).toBe(`'it'\\''s $HOME \`x\`'`);
    expect(runtimeInput(["plugins/it's $HOME", 'plugins/a'])).toBe(`SOURCE_DATE_EPOCH=${COMMIT_TIME} shallow=false\n`);
  });

  it('refuses to guess in a shallow clone, naming the fix', async () => {
    const shallow = await mkdtemp(join(tmpdir(), 'helix-sde-shallow-'));
    try {
      execFileSync('git', ['clone', '-q', '--depth', '1', `file://${repo}`, shallow], { stdio: 'pipe' });
      expect(() => resolveSourceDateEpoch({}, shallow, ['plugins/a'])).toThrow(expect.objectContaining({ code: 'SOURCE_DATE_EPOCH_UNAVAILABLE', message: expect.stringMatching(/shallow clone.*fetch-depth: 0.*or set SOURCE_DATE_EPOCH/) }));
      // HEAD's own time is known to a shallow clone, and the variable still wins.
      expect(resolveSourceDateEpoch({}, shallow).seconds).toBe(COMMIT_TIME + 86_400);
      expect(resolveSourceDateEpoch({ SOURCE_DATE_EPOCH: '315532805' }, shallow, ['plugins/a'])).toEqual({ seconds: 315_532_805, origin: 'environment' });
      // Its cache key says so: it never takes an entry a full clone built.
      expect(runtimeInput(['plugins/a'], {}, shallow)).toMatch(/ shallow=true\n$/);
    } finally {
      await rm(shallow, { recursive: true, force: true });
    }
  });
});

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
    ['315532800', 315_532_800],
    ['4294967295', 4_294_967_295],
  ])('takes SOURCE_DATE_EPOCH=%s from the environment', (raw, seconds) => {
    // Even inside a repository, the environment wins.
    expect(resolveSourceDateEpoch({ SOURCE_DATE_EPOCH: raw }, repo)).toEqual({ seconds, origin: 'environment' });
  });

  it.each(['abc', '-1', '1.5', ' 1', '1e9', '0x10', '1234567890123'])('refuses SOURCE_DATE_EPOCH=%j with SOURCE_DATE_EPOCH_INVALID', (raw) => {
    expect(() => resolveSourceDateEpoch({ SOURCE_DATE_EPOCH: raw }, repo)).toThrow(
      expect.objectContaining({ code: 'SOURCE_DATE_EPOCH_INVALID', message: expect.stringContaining(JSON.stringify(raw)) }),
    );
  });

  // A zip's DOS date starts in 1980; an OpenPGP signature's 32-bit time ends in 2106. Nothing in between is clamped.
  it.each([
    ['0', /before 1980-01-01T00:00:00Z/],
    ['315532799', /before 1980-01-01T00:00:00Z/],
    ['4294967296', /after 2106-02-07T06:28:15Z/],
    ['4354819200', /after 2106-02-07T06:28:15Z/],
  ])('refuses SOURCE_DATE_EPOCH=%s, which no zip or signature can state', (raw, when) => {
    expect(() => resolveSourceDateEpoch({ SOURCE_DATE_EPOCH: raw }, repo)).toThrow(
      expect.objectContaining({ code: 'SOURCE_DATE_EPOCH_INVALID', message: expect.stringMatching(new RegExp(`^SOURCE_DATE_EPOCH=${raw} is ${when.source}.*; set SOURCE_DATE_EPOCH to a time between`)) }),
    );
  });

  it('refuses a commit time before 1980 too, saying where it came from', async () => {
    const old = await mkdtemp(join(tmpdir(), 'helix-sde-1970-'));
    try {
      git(old, 'init', '-q', '-b', 'main');
      execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.invalid', '-c', 'commit.gpgsign=false', 'commit', '-q', '--allow-empty', '-m', '1970'], {
        cwd: old,
        env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_DATE: '@86400 +0000', GIT_COMMITTER_DATE: '@86400 +0000' },
      });
      expect(() => resolveSourceDateEpoch({}, old)).toThrow(expect.objectContaining({ code: 'SOURCE_DATE_EPOCH_INVALID', message: expect.stringMatching(/^the commit time 86400 \(git log -1 --format=%ct in .*\) is before 1980/) }));
    } finally {
      await rm(old, { recursive: true, force: true });
    }
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
