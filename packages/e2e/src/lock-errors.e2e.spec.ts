/**
 * A bad lock state fails `npx nx run release:all` at helix-studio:lock, with
 * the file and line in the message, and nothing that depends on the lock is
 * written: no Studio zip, no SBOM, no SHA256SUMS.txt. The plugin zips, which
 * do not depend on the lock, are still produced (here from the cache).
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listFiles } from '@helix-release/core';
import { cachedTasks, cloneWorkspace, git, nx, plain, ranTasks, removeTemp, tempRoot } from './workspace';

const REQUIREMENTS = 'workspace-fixtures/studio/requirements.txt';
const PYPROJECT = 'workspace-fixtures/studio/pyproject.toml';
const PLUGIN_ZIPS = ['plugins/hello-1.0.0.zip', 'plugins/wordcount-2.1.0.zip'];
const baseWs = inject('baseWorkspace');
let root: string | undefined;
let ws: string;

beforeAll(async () => {
  root = await tempRoot('lock-errors');
  ws = await cloneWorkspace(baseWs, join(root, 'ws'));
});
afterAll(async () => removeTemp(root));

/** 1-based number of the first line of `rel` matching `re`. */
async function lineOf(rel: string, re: RegExp): Promise<number> {
  const i = (await readFile(join(ws, rel), 'utf8')).split('\n').findIndex((l) => re.test(l));
  expect(i, `${re} in ${rel}`).toBeGreaterThanOrEqual(0);
  return i + 1;
}

async function edit(rel: string, change: (text: string) => string): Promise<void> {
  const before = await readFile(join(ws, rel), 'utf8');
  const after = change(before);
  expect(after, `edit of ${rel}`).not.toBe(before);
  await writeFile(join(ws, rel), after);
}

const cases: { name: string; code: string; file: string; make: () => Promise<number> }[] = [
  {
    name: 'an unpinned requirement',
    code: 'LOCK_UNPINNED',
    file: REQUIREMENTS,
    make: async () => {
      await edit(REQUIREMENTS, (t) => t.replace(/^cffi==2\.1\.1 /m, 'cffi>=2 '));
      return lineOf(REQUIREMENTS, /^cffi>=2 /);
    },
  },
  {
    name: 'a requirement without hashes',
    code: 'LOCK_UNHASHED',
    file: REQUIREMENTS,
    make: async () => {
      // pycparser's line loses its continuation and its --hash lines.
      await edit(REQUIREMENTS, (t) => t.replace(/^(pycparser==[^\n]*?) \\\n(?: {4}--hash=[^\n]*\n)+/m, '$1\n'));
      return lineOf(REQUIREMENTS, /^pycparser==/);
    },
  },
  {
    name: 'a URL requirement',
    code: 'LOCK_URL_REQUIREMENT',
    file: REQUIREMENTS,
    make: async () => {
      await edit(REQUIREMENTS, (t) => `${t}foo @ https://example.invalid/foo.whl\n`);
      return lineOf(REQUIREMENTS, /^foo @ /);
    },
  },
  {
    name: 'a uv.lock that is stale with pyproject.toml',
    code: 'LOCK_STALE',
    file: PYPROJECT,
    make: async () => {
      await edit(PYPROJECT, (t) => t.replace('"cryptography==50.0.2"', '"cryptography==50.0.3"'));
      return lineOf(PYPROJECT, /"cryptography==50\.0\.3"/);
    },
  },
];

describe('bad lock states', () => {
  it.each(cases)('$name fails the release at helix-studio:lock and writes nothing that depends on the lock', async ({ code, file, make }) => {
    const line = await make();
    await rm(join(ws, 'dist'), { recursive: true, force: true });
    const r = await nx(ws, ['run', 'release:all']);
    // Nx exits 130 (not 1): the tasks after the failed lock never get a
    // result, and Nx 22 takes such a run for an interrupted one.
    expect(r.code, r.output).not.toBe(0);
    expect(plain(r.output)).toContain(`[helix-studio:lock] error: ${code}: ${file}:${line}: `);
    expect(plain(r.output)).toMatch(/Failed tasks:\s*\n- helix-studio:lock\n/);
    // Nx runs what does not depend on the lock (the plugin zips, from the
    // cache; the toolchain) and nothing that does.
    expect([...ranTasks(r.output)].sort()).toEqual(['helix-studio:lock', 'plugin-hello:plugin-zip', 'plugin-wordcount:plugin-zip', 'release:preflight', 'release:toolchain']);
    expect(cachedTasks(r.output).sort()).toEqual(['plugin-hello:plugin-zip', 'plugin-wordcount:plugin-zip']);
    // The release folder was emptied (dist/ deleted) before the run: all it
    // holds now are the plugin zips, identical to the base build's.
    expect(await listFiles(join(ws, 'dist/release'))).toEqual(PLUGIN_ZIPS);
    for (const zip of PLUGIN_ZIPS) {
      expect((await readFile(join(ws, 'dist/release', zip))).equals(await readFile(join(baseWs, 'dist/release', zip))), zip).toBe(true);
    }
    // No lock report for a later stage to trust.
    expect(existsSync(join(ws, 'dist/manifest/helix-studio/lock.json'))).toBe(false);

    git(ws, 'checkout', '--', file);
    expect(git(ws, 'status', '--porcelain')).toBe('');
  });
});

describe('a tag that is not the release version', () => {
  it('stops the run at release:preflight, naming both, before any stage touches dist/release', async () => {
    const before = await listFiles(join(ws, 'dist/release')).catch(() => [] as string[]);
    git(ws, 'tag', 'v9.9.9');
    try {
      const r = await nx(ws, ['run', 'release:all']);
      expect(r.code, r.output).not.toBe(0);
      expect(plain(r.output)).toContain('[release:preflight] error: RELEASE_TAG_MISMATCH: release.config.ts: HEAD is tagged v9.9.9, but the release version is 1.4.0');
      expect(ranTasks(r.output)).toEqual(['release:preflight']);
      expect(await listFiles(join(ws, 'dist/release')).catch(() => [] as string[])).toEqual(before);
    } finally {
      git(ws, 'tag', '-d', 'v9.9.9');
    }
  });
});

describe('a release config that finds no app', () => {
  it.each([
    ['apps.root with a typo', "root: 'workspace-fixtures/studo'", /apps\.root: "workspace-fixtures\/studo" is not a folder of the workspace/],
    ['apps.root naming a folder without an app', "root: 'workspace-fixtures/plugins'", /apps\.root: no app below "workspace-fixtures\/plugins"/],
  ])('%s fails before any stage runs, naming the key, and leaves dist/release untouched', async (_what, root, message) => {
    const before = await listFiles(join(ws, 'dist/release')).catch(() => [] as string[]);
    const config = await readFile(join(ws, 'release.config.ts'), 'utf8');
    expect(config).toContain("root: 'workspace-fixtures/studio'");
    await writeFile(join(ws, 'release.config.ts'), config.replace("root: 'workspace-fixtures/studio'", root));
    try {
      const r = await nx(ws, ['run', 'release:all']);
      expect(r.code, r.output).not.toBe(0);
      expect(plain(r.output)).toMatch(message);
      expect(ranTasks(r.output)).toEqual([]);
      expect(await listFiles(join(ws, 'dist/release')).catch(() => [] as string[])).toEqual(before);
    } finally {
      await writeFile(join(ws, 'release.config.ts'), config);
    }
  });
});
