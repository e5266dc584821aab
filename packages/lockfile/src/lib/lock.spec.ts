import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { memoryLogger, sha256Hex } from '@helix-release/core';
import { checkLockfiles } from './lock';

const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');
const STUDIO = join(REPO_ROOT, 'workspace-fixtures', 'studio');
const REPO_UV = join(REPO_ROOT, '.helix', 'toolchain', 'venv', 'bin', 'uv');
const FILES = ['requirements.txt', 'pyproject.toml', 'uv.lock'] as const;
type Files = Record<(typeof FILES)[number], string>;

/** 1-based line of the first line of `text` that `test` accepts. */
function lineOf(text: string, test: (line: string) => boolean): number {
  const index = text.split('\n').findIndex(test);
  if (index < 0) throw new Error('fixture changed: line not found');
  return index + 1;
}

/** Removes the requirement starting with `prefix` and its continuation and `# via` lines. */
function dropRequirement(text: string, prefix: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(prefix));
  if (start < 0) throw new Error(`fixture changed: no ${prefix}`);
  let end = start + 1;
  while (end < lines.length && /^\s/.test(lines[end]!)) end++;
  return [...lines.slice(0, start), ...lines.slice(end)].join('\n');
}

describe('checkLockfiles on copies of workspace-fixtures/studio', () => {
  let workspaceRoot: string;
  let original: Files;
  let count = 0;

  beforeAll(async () => {
    workspaceRoot = await mkdtemp(join(tmpdir(), 'helix-lock-ws-'));
    original = Object.fromEntries(await Promise.all(FILES.map(async (f) => [f, await readFile(join(STUDIO, f), 'utf8')]))) as Files;
  });
  afterAll(async () => {
    await rm(workspaceRoot, { recursive: true, force: true });
  });

  /** A fresh app folder `apps/studio-<n>` in the temp workspace, with `change` applied to the copies. */
  async function app(change: Partial<Files> = {}): Promise<{ root: string; rel: string }> {
    const rel = `apps/studio-${++count}`;
    const root = join(workspaceRoot, rel);
    await mkdir(root, { recursive: true });
    for (const f of FILES) await writeFile(join(root, f), change[f] ?? original[f]);
    return { root, rel };
  }

  const ctx = () => ({ workspaceRoot, logger: memoryLogger() });

  it('passes on the committed set and reports every lockfile and locked package', async () => {
    const { root, rel } = await app();
    const report = await checkLockfiles(ctx(), { projectRoot: root, skipUv: true });
    expect(report.app).toBe('helix-studio');
    expect(report.lockfiles).toEqual([
      { path: `${rel}/requirements.txt`, sha256: sha256Hex(original['requirements.txt']) },
      { path: `${rel}/pyproject.toml`, sha256: sha256Hex(original['pyproject.toml']) },
      { path: `${rel}/uv.lock`, sha256: sha256Hex(original['uv.lock']) },
    ]);
    expect(report.packages.map((p) => `${p.name}==${p.version}`)).toEqual(['cffi==2.1.1', 'cryptography==50.0.2', 'pycparser==3.12']);
    expect(report.packages.find((p) => p.name === 'cffi')!.marker).toBe("platform_python_implementation != 'PyPy'");
    for (const p of report.packages) {
      expect(p.hashes.length).toBeGreaterThan(0);
      for (const h of p.hashes) expect(original['uv.lock']).toContain(`sha256:${h}`);
    }
  });

  it('a pyproject.toml whose cryptography pin changed → LOCK_STALE at the line of that dependency', async () => {
    const pyproject = original['pyproject.toml'].replace('"cryptography==50.0.2"', '"cryptography==50.0.1"');
    expect(pyproject).not.toBe(original['pyproject.toml']);
    const { root, rel } = await app({ 'pyproject.toml': pyproject });
    const line = lineOf(pyproject, (l) => l.includes('"cryptography==50.0.1"'));
    await expect(checkLockfiles(ctx(), { projectRoot: root, skipUv: true })).rejects.toMatchObject({
      code: 'LOCK_STALE',
      file: `${rel}/pyproject.toml:${line}`,
      message: expect.stringContaining('dependency "cryptography==50.0.1" is not what uv.lock resolved; run `uv lock`'),
    });
  });

  it('a pyproject.toml with a new dependency → LOCK_STALE at its line', async () => {
    const pyproject = original['pyproject.toml'].replace('    "cryptography==50.0.2",\n', '    "cryptography==50.0.2",\n    "idna==3.7",\n');
    expect(pyproject).not.toBe(original['pyproject.toml']);
    const { root, rel } = await app({ 'pyproject.toml': pyproject });
    await expect(checkLockfiles(ctx(), { projectRoot: root, skipUv: true })).rejects.toMatchObject({
      code: 'LOCK_STALE',
      file: `${rel}/pyproject.toml:${lineOf(pyproject, (l) => l.includes('"idna==3.7"'))}`,
    });
  });

  it('a requirements.txt with cffi\'s version changed → LOCK_MISMATCH at its line', async () => {
    const requirements = original['requirements.txt'].replace(/^cffi==2\.1\.1 /m, 'cffi==2.1.0 ');
    expect(requirements).not.toBe(original['requirements.txt']);
    const { root, rel } = await app({ 'requirements.txt': requirements });
    await expect(checkLockfiles(ctx(), { projectRoot: root, skipUv: true })).rejects.toMatchObject({
      code: 'LOCK_MISMATCH',
      file: `${rel}/requirements.txt:${lineOf(requirements, (l) => l.startsWith('cffi==2.1.0'))}`,
      message: expect.stringContaining('cffi==2.1.0 but uv.lock locks 2.1.1'),
    });
  });

  it('a requirements.txt with a hash uv.lock does not know → LOCK_MISMATCH at that requirement', async () => {
    const requirements = original['requirements.txt'].replace(/(cryptography==50\.0\.2 \\\n {4}--hash=sha256:)[0-9a-f]{64}/, `$1${'0'.repeat(64)}`);
    expect(requirements).not.toBe(original['requirements.txt']);
    const { root, rel } = await app({ 'requirements.txt': requirements });
    await expect(checkLockfiles(ctx(), { projectRoot: root, skipUv: true })).rejects.toMatchObject({
      code: 'LOCK_MISMATCH',
      file: `${rel}/requirements.txt:${lineOf(requirements, (l) => l.startsWith('cryptography=='))}`,
      message: expect.stringContaining(`hash ${'0'.repeat(64)} is not one uv.lock records`),
    });
  });

  it('a requirements.txt missing pycparser → LOCK_MISMATCH naming uv.lock:<line of pycparser>', async () => {
    const requirements = dropRequirement(original['requirements.txt'], 'pycparser==');
    expect(requirements).not.toContain('pycparser==');
    const { root, rel } = await app({ 'requirements.txt': requirements });
    await expect(checkLockfiles(ctx(), { projectRoot: root, skipUv: true })).rejects.toMatchObject({
      code: 'LOCK_MISMATCH',
      file: `${rel}/uv.lock:${lineOf(original['uv.lock'], (l) => l === 'name = "pycparser"')}`,
      message: expect.stringContaining('uv.lock locks pycparser==3.12 but requirements.txt does not list it'),
    });
  });

  it('an unpinned line in another requirements*.txt of the app fails too, naming that file', async () => {
    const { root, rel } = await app();
    await writeFile(join(root, 'requirements-dev.txt'), '# dev tools\npytest>=8\n');
    await expect(checkLockfiles(ctx(), { projectRoot: root, skipUv: true })).rejects.toMatchObject({ code: 'LOCK_UNPINNED', file: `${rel}/requirements-dev.txt:2` });
  });

  it('a missing requirements.txt or uv.lock → LOCK_MISSING', async () => {
    const one = await app();
    await rm(join(one.root, 'requirements.txt'));
    await expect(checkLockfiles(ctx(), { projectRoot: one.root, skipUv: true })).rejects.toMatchObject({ code: 'LOCK_MISSING', file: `${one.rel}/requirements.txt` });
    const two = await app();
    await rm(join(two.root, 'uv.lock'));
    await expect(checkLockfiles(ctx(), { projectRoot: two.root, skipUv: true })).rejects.toMatchObject({ code: 'LOCK_MISSING', file: `${two.rel}/uv.lock` });
  });

  describe('with the real uv of the provisioned toolchain', () => {
    beforeAll(async () => {
      if (!existsSync(REPO_UV)) {
        throw new Error(`uv is not provisioned at ${REPO_UV}; run \`npx nx run release:toolchain\` first (this test runs the real \`uv lock --check\`)`);
      }
      // The temp workspace finds the toolchain where resolveUv looks for it.
      await symlink(join(REPO_ROOT, '.helix'), join(workspaceRoot, '.helix'));
    });

    it('passes on the committed set', async () => {
      const { root } = await app();
      await expect(checkLockfiles(ctx(), { projectRoot: root, skipUv: false })).resolves.toMatchObject({ app: 'helix-studio' });
    });

    it('fails with LOCK_STALE on a stale set our own comparison cannot see (only uv can)', async () => {
      // The project version is in uv.lock; our line-level check does not compare it.
      const pyproject = original['pyproject.toml'].replace(/^version = "1\.4\.0"$/m, 'version = "1.4.1"');
      expect(pyproject).not.toBe(original['pyproject.toml']);
      const { root, rel } = await app({ 'pyproject.toml': pyproject });
      await expect(checkLockfiles(ctx(), { projectRoot: root, skipUv: true })).resolves.toBeDefined();
      await expect(checkLockfiles(ctx(), { projectRoot: root, skipUv: false })).rejects.toMatchObject({
        code: 'LOCK_STALE',
        file: `${rel}/pyproject.toml:${lineOf(pyproject, (l) => l === '[project]')}`,
        message: expect.stringMatching(/`uv lock --check` says: .*needs to be updated/),
      });
    });

    it('fails with LOCK_STALE on the changed cryptography pin', async () => {
      const { root } = await app({ 'pyproject.toml': original['pyproject.toml'].replace('"cryptography==50.0.2"', '"cryptography==50.0.1"') });
      await expect(checkLockfiles(ctx(), { projectRoot: root, skipUv: false })).rejects.toMatchObject({ code: 'LOCK_STALE' });
    });

    describe('with an empty uv cache (a fresh machine)', () => {
      let cache: string;
      beforeAll(async () => {
        cache = await mkdtemp(join(tmpdir(), 'helix-empty-uv-cache-'));
      });
      afterAll(async () => {
        await rm(cache, { recursive: true, force: true });
      });
      const cold = (extra: NodeJS.ProcessEnv = {}) => ({ ...ctx(), env: { UV_CACHE_DIR: cache, ...extra } });

      it.each<[string, (p: string) => string, 'pass' | RegExp]>([
        ['passes on the committed set', (p) => p, 'pass'],
        ['gives the same LOCK_STALE as a warm cache on a stale set only uv can see', (p) => p.replace(/^version = "1\.4\.0"$/m, 'version = "1.4.1"'), /`uv lock --check` says: .*needs to be updated/],
      ])('%s', async (_what, change, expected) => {
        // A fresh folder per case: the first case may fill it (from the index), the verdicts must not depend on that.
        await rm(cache, { recursive: true, force: true });
        await mkdir(cache);
        const { root } = await app({ 'pyproject.toml': change(original['pyproject.toml']) });
        const run = checkLockfiles(cold(), { projectRoot: root, skipUv: false });
        if (expected === 'pass') await expect(run).resolves.toMatchObject({ app: 'helix-studio' });
        else await expect(run).rejects.toMatchObject({ code: 'LOCK_STALE', message: expect.stringMatching(expected) });
      });

      it('reports an unreachable index as LOCK_TOOL_FAILED, not as a stale lock', async () => {
        await rm(cache, { recursive: true, force: true });
        await mkdir(cache);
        const { root, rel } = await app();
        // Port 9 (discard) on loopback refuses at once: no traffic leaves the machine.
        const env = { UV_INDEX_URL: 'http://127.0.0.1:9/simple', UV_DEFAULT_INDEX: 'http://127.0.0.1:9/simple', UV_HTTP_RETRIES: '0' };
        await expect(checkLockfiles(cold(env), { projectRoot: root, skipUv: false })).rejects.toMatchObject({
          code: 'LOCK_TOOL_FAILED',
          file: `${root}/uv.lock`,
          message: expect.stringMatching(/uv could not check uv\.lock against the package index: .*127\.0\.0\.1:9.*check the network or UV_INDEX_URL/),
        });
        expect(rel).toMatch(/^apps\//);
      });

      it('reports an unusable cache folder as LOCK_TOOL_FAILED naming UV_CACHE_DIR', async () => {
        const { root } = await app();
        await expect(checkLockfiles({ ...ctx(), env: { UV_CACHE_DIR: '/proc/helix-no-such-cache' } }, { projectRoot: root, skipUv: false })).rejects.toMatchObject({
          code: 'LOCK_TOOL_FAILED',
          message: expect.stringMatching(/uv cannot use its cache folder: .*\/proc\/helix-no-such-cache.*point UV_CACHE_DIR at a writable folder/),
        });
      });
    });
  });
});
