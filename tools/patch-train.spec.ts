/**
 * tools/next_patch_version.sh, the version logic of
 * .github/workflows/patch-train.yml, on scratch git repositories: no tags,
 * the last tag on HEAD (nothing to do), v1.4.0 → v1.4.1, pre-release and
 * other tags ignored, numeric (not text) order, a security release cut on a
 * branch, --base for the emergency path, and --config (whether the tag job
 * must bump release.config.ts's version first). The workflow test (that
 * patch-train.yml runs this script, with actionlint and pins) is in
 * tools/release-parity.spec.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const SCRIPT = join(ROOT, 'tools', 'next_patch_version.sh');

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'patch train test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'patch train test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
};

function sh(cmd: string, args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...GIT_ENV } });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function git(repo: string, ...args: string[]): string {
  const r = sh('git', args, repo);
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Runs the script; returns its key=value output as an object, its status and stderr. */
function next(repo: string, ...args: string[]): { status: number | null; out: Record<string, string>; stderr: string } {
  const r = sh('bash', [SCRIPT, ...args], repo);
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const eq = line.indexOf('=');
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return { status: r.status, out, stderr: r.stderr };
}

let scratch: string;
let n = 0;

async function repo(): Promise<{ dir: string; commit: (msg?: string) => string }> {
  const dir = join(scratch, `repo-${n++}`);
  sh('git', ['init', '-q', '-b', 'main', dir], scratch);
  return { dir, commit: (msg = 'change') => (git(dir, 'commit', '-q', '--allow-empty', '-m', msg), git(dir, 'rev-parse', 'HEAD')) };
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'helix-patch-train-'));
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('tools/next_patch_version.sh (the weekly patch train)', () => {
  it('no release tag: nothing to do, and says so', async () => {
    const { dir, commit } = await repo();
    const head = commit();
    const r = next(dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.out).toEqual({ action: 'none', last: '', next: '', commit: head, reason: expect.stringMatching(/no release tag/) });
  });

  it('the last tag is on HEAD: nothing to do', async () => {
    const { dir, commit } = await repo();
    commit();
    const head = commit();
    git(dir, 'tag', 'v1.4.0');
    const r = next(dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.out).toMatchObject({ action: 'none', last: 'v1.4.0', next: '', commit: head });
    expect(r.out['reason']).toMatch(/v1\.4\.0 already tags HEAD/);
  });

  it('v1.4.0 and two commits since: v1.4.1; an annotated tag counts like a lightweight one', async () => {
    for (const annotated of [false, true]) {
      const { dir, commit } = await repo();
      commit();
      git(dir, 'tag', ...(annotated ? ['-a', '-m', 'release'] : []), 'v1.4.0');
      commit();
      const head = commit();
      const r = next(dir);
      expect(r.status, r.stderr).toBe(0);
      expect(r.out).toEqual({ action: 'tag', last: 'v1.4.0', next: 'v1.4.1', commit: head, reason: '2 commit(s) since v1.4.0' });
    }
  });

  it('ignores pre-release and other tags (v1.5.0-rc.1, v2, nightly, 1.6.0)', async () => {
    const { dir, commit } = await repo();
    commit();
    git(dir, 'tag', 'v1.4.0');
    commit();
    for (const t of ['v1.5.0-rc.1', 'v2', 'nightly', '1.6.0', 'v1.4.9-beta']) git(dir, 'tag', t);
    const r = next(dir);
    expect(r.out).toMatchObject({ action: 'tag', last: 'v1.4.0', next: 'v1.4.1' });
    // Only a pre-release on HEAD is not "the last tag on HEAD".
    const only = await repo();
    only.commit();
    git(only.dir, 'tag', 'v1.5.0-rc.1');
    expect(next(only.dir).out).toMatchObject({ action: 'none', last: '' });
  });

  it('orders versions as numbers: v1.10.0 is after v1.9.7, v1.4.10 after v1.4.9', async () => {
    const { dir, commit } = await repo();
    commit();
    git(dir, 'tag', 'v1.9.7');
    commit();
    git(dir, 'tag', 'v1.10.0');
    commit();
    expect(next(dir).out).toMatchObject({ action: 'tag', last: 'v1.10.0', next: 'v1.10.1' });
    git(dir, 'tag', 'v1.10.9');
    commit();
    git(dir, 'tag', 'v1.10.10');
    commit();
    expect(next(dir).out).toMatchObject({ last: 'v1.10.10', next: 'v1.10.11' });
  });

  it('a security release cut on a branch (v1.4.1 off v1.4.0) is not cut again: main gets v1.4.2', async () => {
    const { dir, commit } = await repo();
    const base = commit();
    git(dir, 'tag', 'v1.4.0');
    git(dir, 'checkout', '-q', '-b', 'security', base);
    commit('the fix');
    git(dir, 'tag', 'v1.4.1');
    git(dir, 'checkout', '-q', 'main');
    const head = commit('main moves on');
    const r = next(dir);
    expect(r.out).toMatchObject({ action: 'tag', last: 'v1.4.0', next: 'v1.4.2', commit: head });
  });

  it('takes a revision: the dry run asks about origin/main, not the checked-out merge commit', async () => {
    const { dir, commit } = await repo();
    commit();
    git(dir, 'tag', 'v0.3.0');
    const main = commit();
    git(dir, 'checkout', '-q', '-b', 'pr');
    commit('the pull request');
    expect(next(dir, 'main').out).toMatchObject({ action: 'tag', next: 'v0.3.1', commit: main });
    expect(next(dir, 'no-such-rev').status).toBe(1);
  });
});

describe('tools/next_patch_version.sh --config release.config.ts (bump the declared version, or not)', () => {
  async function withConfig(version: string): Promise<{ dir: string; commit: (msg?: string) => string; declare: (v: string) => void }> {
    const r = await repo();
    const declare = (v: string) => {
      writeFileSync(join(r.dir, 'release.config.ts'), `export default defineConfig({\n  version: '${v}',\n  apps: { root: 'apps' },\n});\n`);
      git(r.dir, 'add', 'release.config.ts');
    };
    declare(version);
    return { ...r, declare };
  }

  it('still the last version: bump=yes; already the next one: bump=no; nothing to do: bump=no', async () => {
    const { dir, commit, declare } = await withConfig('1.4.0');
    commit();
    git(dir, 'tag', 'v1.4.0');
    expect(next(dir, '--config', 'release.config.ts').out).toMatchObject({ action: 'none', declared: '1.4.0', bump: 'no' });
    commit();
    expect(next(dir, '--config', 'release.config.ts').out).toMatchObject({ action: 'tag', next: 'v1.4.1', declared: '1.4.0', bump: 'yes' });
    declare('1.4.1');
    commit('bumped by hand');
    expect(next(dir, '--config=release.config.ts').out).toMatchObject({ action: 'tag', next: 'v1.4.1', declared: '1.4.1', bump: 'no' });
  });

  it('reads the file as the revision has it, not the work tree', async () => {
    const { dir, commit } = await withConfig('2.0.0');
    commit();
    git(dir, 'tag', 'v2.0.0');
    commit();
    writeFileSync(join(dir, 'release.config.ts'), "export default { version: '9.9.9' };\n");
    expect(next(dir, '--config', 'release.config.ts').out).toMatchObject({ declared: '2.0.0', bump: 'yes' });
  });

  it('another version, no version line, two of them, or no such file: exit 1 and no output', async () => {
    const { dir, commit, declare } = await withConfig('1.4.0');
    commit();
    git(dir, 'tag', 'v1.4.0');
    declare('1.6.0');
    commit();
    const other = next(dir, '--config', 'release.config.ts');
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(/declares version 1\.6\.0, which is neither the last release's \(1\.4\.0\) nor the next one's \(1\.4\.1\)/);
    expect(other.out).toEqual({});
    for (const [text, why] of [
      ['export default { apps: {} };\n', /needs exactly one `version:/],
      ["export default { version: '1.4.0',\n  version: '1.4.0' };\n", /needs exactly one `version:/],
    ] as const) {
      writeFileSync(join(dir, 'release.config.ts'), text);
      git(dir, 'add', 'release.config.ts');
      commit();
      const r = next(dir, '--config', 'release.config.ts');
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(why);
    }
    expect(next(dir, '--config', 'no-such-file.ts').stderr).toMatch(/HEAD has no no-such-file\.ts/);
  });
});

describe('tools/next_patch_version.sh --base (the emergency security release)', () => {
  it('tags the fix on top of the base with the next free patch of its line', async () => {
    const { dir, commit } = await repo();
    const base = commit();
    git(dir, 'tag', 'v2.0.0');
    commit();
    git(dir, 'tag', 'v2.1.0');
    git(dir, 'checkout', '-q', '-b', 'security-2.0', base);
    const fix = commit('the fix');
    expect(next(dir, '--base', 'v2.0.0').out).toEqual({ action: 'tag', last: 'v2.0.0', next: 'v2.0.1', commit: fix, reason: '1 commit(s) since v2.0.0' });
    git(dir, 'tag', 'v2.0.1');
    const second = commit('a second fix');
    expect(next(dir, '--base=v2.0.1').out).toMatchObject({ action: 'tag', next: 'v2.0.2', commit: second });
  });

  it('nothing on top of the base: nothing to do; a base that is no release tag, missing, or not an ancestor: exit 1', async () => {
    const { dir, commit } = await repo();
    commit();
    git(dir, 'tag', 'v3.1.4');
    git(dir, 'tag', 'v3.2.0-rc.1');
    expect(next(dir, '--base', 'v3.1.4').out).toMatchObject({ action: 'none', last: 'v3.1.4' });
    commit();
    for (const [base, why] of [
      ['v3.2.0-rc.1', /is not a release tag/],
      ['3.1.4', /is not a release tag/],
      ['v9.9.9', /there is no tag v9\.9\.9/],
    ] as const) {
      const r = next(dir, '--base', base);
      expect(r.status, base).toBe(1);
      expect(r.stderr, base).toMatch(why);
      expect(r.out, base).toEqual({});
    }
    git(dir, 'checkout', '-q', '--orphan', 'elsewhere');
    commit('unrelated');
    git(dir, 'tag', 'v3.3.0');
    git(dir, 'checkout', '-q', 'main');
    const r = next(dir, '--base', 'v3.3.0');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/does not descend from v3\.3\.0/);
  });

  it('usage: --help exits 0, an unknown option or two revisions exit 2', async () => {
    const { dir, commit } = await repo();
    commit();
    expect(sh('bash', [SCRIPT, '--help'], dir).status).toBe(0);
    expect(next(dir, '--no-such-option').status).toBe(2);
    expect(next(dir, 'HEAD', 'HEAD').status).toBe(2);
    expect(next(dir, '--base').status).toBe(2);
  });

  it('the script only reads the repository (no tag, ref or commit appears)', async () => {
    const { dir, commit } = await repo();
    commit();
    git(dir, 'tag', 'v1.0.0');
    commit();
    const before = git(dir, 'for-each-ref');
    expect(next(dir).out['next']).toBe('v1.0.1');
    expect(git(dir, 'for-each-ref')).toBe(before);
    expect(await readFile(SCRIPT, 'utf8')).not.toMatch(/git\s+(tag\s+-[afs]|push|commit|update-ref)/);
  });
});
