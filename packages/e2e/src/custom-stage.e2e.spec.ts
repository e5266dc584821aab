/**
 * A team's own stage, as the generator scaffolds it: `nx g
 * @helix-release/nx-plugin:stage release-inventory --register` and then
 * `nx run release:all`, with no `npm install` in between. Its output is
 * covered by the evidence stages like the example license-report's; and a
 * stage that fails, skips a declared output or writes elsewhere (another
 * stage's record, a git-ignored path of the workspace) fails the release,
 * named, with none of its declared outputs and none of the files it created
 * left behind.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseSums } from '@helix-release/format';
import { cachedTasks, cloneWorkspace, git, nx, plain, ranTasks, removeTemp, run, tempRoot } from './workspace';

const DEV_FINGERPRINT = '4F40C2A82074F58CCBC320F1EE876E4DFFF5DFA4';
const STAGE = 'release-inventory';
const EXECUTOR = `@helix-stages/${STAGE}:${STAGE}`;
const LIB = `packages/${STAGE}/src/lib/${STAGE}.ts`;
const OUTPUT = `${STAGE}.txt`;

let root: string | undefined;
let ws: string;
let release: string;

beforeAll(async () => {
  root = await tempRoot('custom-stage');
  ws = await cloneWorkspace(inject('baseWorkspace'), join(root, 'ws'));
  release = join(ws, 'dist/release');
});
afterAll(async () => removeTemp(root));

const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

/** Edits a file of the workspace with `edit`, failing when the edit changes nothing. */
async function edit(rel: string, change: (text: string) => string): Promise<void> {
  const before = await readFile(join(ws, rel), 'utf8');
  const after = change(before);
  expect(after, `edit of ${rel}`).not.toBe(before);
  await writeFile(join(ws, rel), after);
}

/** Puts the committed stage back (the cases edit tracked files only, plus the strays they name). */
async function restore(...strays: string[]): Promise<void> {
  git(ws, 'checkout', '--', '.');
  for (const s of strays) await rm(join(ws, s), { force: true });
  expect(git(ws, 'status', '--porcelain')).toBe('');
}

/** Runs release:all expecting the custom stage to fail it; returns the output. */
async function failingRelease(message: string): Promise<string> {
  const r = await nx(ws, ['run', 'release:all']);
  // Nx exits 130, not 1, when a failed task leaves tasks that depend on it
  // without a result (it takes the run for an interrupted one).
  expect(r.code, r.output).not.toBe(0);
  expect(plain(r.output)).toContain(message);
  expect(plain(r.output)).toMatch(new RegExp(`Failed tasks:\\s*\\n(?:- \\S+\\n)*- release:${STAGE}\\n`));
  expect(cachedTasks(r.output)).not.toContain(`release:${STAGE}`);
  expect(ranTasks(r.output)).not.toContain('release:sign');
  // None of its declared outputs, and no stage record a later stage could trust.
  expect(existsSync(join(release, OUTPUT)), OUTPUT).toBe(false);
  expect(existsSync(join(ws, 'dist/manifest/release', `${STAGE}.json`))).toBe(false);
  return plain(r.output);
}

describe('a generated custom stage', () => {
  it('is scaffolded and registered by the generator, and runs without npm install', async () => {
    const g = await nx(ws, ['g', '@helix-release/nx-plugin:stage', STAGE, '--register']);
    expect(g.code, g.output).toBe(0);
    expect(g.output).toContain(`CREATE ${LIB}`);
    expect(g.output).toContain('UPDATE release.config.ts');
    expect(await readFile(join(ws, 'release.config.ts'), 'utf8')).toContain(`executor: '${EXECUTOR}'`);
    // Not linked into node_modules: Node cannot resolve the package...
    expect(() => createRequire(join(ws, 'package.json')).resolve(`@helix-stages/${STAGE}/package.json`)).toThrow();
    expect(existsSync(join(ws, 'node_modules/@helix-stages', STAGE))).toBe(false);
    // Commit the stage, as a team would before releasing: a release of a dirty
    // tree fails verification (BUILD_DIRTY), and each failure case below
    // starts from this commit, which `git checkout` restores.
    git(ws, 'add', '-A');
    git(ws, 'commit', '-q', '-m', `add the ${STAGE} stage`);
    expect(git(ws, 'status', '--porcelain')).toBe('');

    // ...but Nx can: when require.resolve fails it looks the executor's package
    // up among the workspace's projects (packages/* of the npm workspaces has a
    // package.json named @helix-stages/release-inventory) and registers its
    // TypeScript transpiler for it; the stage's own imports resolve through
    // the shared node_modules.
    const r = await nx(ws, ['run', 'release:all']);
    expect(r.code, r.output).toBe(0);
    expect(ranTasks(r.output)).toContain(`release:${STAGE}`);
    expect(cachedTasks(r.output)).not.toContain(`release:${STAGE}`);
    expect(plain(r.output)).toContain(`custom stage ${STAGE}: ${OUTPUT}`);
    expect(existsSync(join(ws, 'node_modules/@helix-stages', STAGE))).toBe(false);

    const inventory = (await readFile(join(release, OUTPUT), 'utf8')).trimEnd().split('\n');
    expect(inventory[0]).toBe(`# ${STAGE}: release inventory as of 2026-01-02T03:04:05.000Z`);
    // after: 'build': the two installers and the two plugin zips.
    expect(inventory.slice(1).map((l) => l.split(/\s+/).at(-1))).toEqual(['helix-greeter-0.1.0-linux-x86_64.zip', 'helix-studio-1.4.0-linux-x86_64.zip', 'plugins/hello-1.0.0.zip', 'plugins/wordcount-2.1.0.zip']);
  });

  it('has its output, like the example THIRD_PARTY_LICENSES.txt, in the sums, the provenance and signed; the release verifies', async () => {
    const sums = parseSums(await readFile(join(release, 'SHA256SUMS.txt'), 'utf8'), 'SHA256SUMS.txt');
    const provenance = JSON.parse(await readFile(join(release, 'release-provenance.intoto.json'), 'utf8')) as {
      subject: { name: string; digest: { sha256: string }; annotations?: Record<string, string> }[];
    };
    for (const file of [OUTPUT, 'THIRD_PARTY_LICENSES.txt']) {
      const digest = await sha256(join(release, file));
      expect(sums.find((l) => l.path === file)?.sha256, file).toBe(digest);
      const subject = provenance.subject.find((s) => s.name === file);
      expect(subject?.digest.sha256, file).toBe(digest);
      expect(subject?.annotations?.['helix.kind'], file).toBe('custom');
      expect(existsSync(join(release, `${file}.asc`)), `${file}.asc`).toBe(true);
    }
    const v = await run(process.execPath, [join(ws, 'packages/cli/bin/helix-release.cjs'), 'verify', release, '--fingerprint', DEV_FINGERPRINT, '--allow-development-key'], { cwd: ws });
    expect(v.code, v.output).toBe(0);
    // The sample's DEVELOPMENT key, accepted explicitly: the one warning.
    expect(v.stdout).toMatch(/^WARN KEY_DEVELOPMENT: release-signing-public-key\.asc: /m);
    expect(v.stdout).toMatch(/^verification PASSED with 1 accepted warning\(s\)$/m);
    expect(v.stdout).not.toMatch(/^FAILED/m);
    expect(v.stdout).toContain(`PASSED signature: ${OUTPUT}.asc`);
    expect(v.stdout).toContain('PASSED signature: THIRD_PARTY_LICENSES.txt.asc');
  });

  it('fails the release, named, when its executor fails', async () => {
    // Only the stage's own sources change: the cache must not serve the old
    // result (the stage package's folder is an input of its target even
    // though it is not linked into node_modules).
    await edit(LIB, (t) => t.replace(/(\): Promise<number> \{\n)/, "$1  throw new Error('inventory exploded');\n"));
    const out = await failingRelease(`custom stage "${STAGE}" failed (its executor ${EXECUTOR} reported failure)`);
    expect(out).toContain(`[${STAGE}] error: inventory exploded`);
    await restore();
  });

  it('fails the release, named, when it does not write an output it declares', async () => {
    await edit('release.config.ts', (t) => t.replace(`outputs: [{ path: '${OUTPUT}' }]`, `outputs: [{ path: '${OUTPUT}' }, { path: '${STAGE}-summary.txt' }]`));
    await failingRelease(`custom stage "${STAGE}" declared the output ${STAGE}-summary.txt but did not write it`);
    // The output it did write is declared too: removed with the rest.
    expect(existsSync(join(release, `${STAGE}-summary.txt`))).toBe(false);
    await restore();
  });

  it('fails the release, named, when its declared output path no longer matches what it writes', async () => {
    // Renaming the declared output makes the file the executor still writes
    // undeclared, which the wrapper reports first (as a stray), and removes:
    // the stage created it. (license-report runs in the same slot and may
    // report the same stray.)
    await edit('release.config.ts', (t) => t.replace(`outputs: [{ path: '${OUTPUT}' }]`, `outputs: [{ path: '${STAGE}-renamed.txt' }]`));
    const r = await nx(ws, ['run', 'release:all']);
    expect(r.code, r.output).not.toBe(0);
    expect(plain(r.output)).toContain(`custom stage "${STAGE}" wrote outside its declared outputs: dist/release/${OUTPUT} (created, removed)`);
    expect(plain(r.output)).toMatch(new RegExp(`Failed tasks:\\s*\\n(?:- \\S+\\n)*- release:${STAGE}\\n`));
    expect(existsSync(join(release, `${STAGE}-renamed.txt`))).toBe(false);
    expect(existsSync(join(ws, 'dist/manifest/release', `${STAGE}.json`))).toBe(false);
    expect(existsSync(join(release, OUTPUT))).toBe(false);
    await restore();
  });

  it('fails the release, named, when it writes outside the release folder', async () => {
    await edit(LIB, (t) =>
      t.replace(/(\n {2}return rows\.length;)/, "\n  await writeFileAtomic(join(inputs.releaseDir, '..', '..', 'inventory-scratch.txt'), 'scratch\\n');$1"),
    );
    const out = await failingRelease(`custom stage "${STAGE}" wrote outside its declared outputs: inventory-scratch.txt (created, removed)`);
    expect(out).toContain('a stage may write only the files it declares under dist/release/, and temporary files in the folder TMPDIR names while it runs');
    // The stage created the stray at the workspace root: it is removed.
    expect(existsSync(join(ws, 'inventory-scratch.txt'))).toBe(false);
    await restore();
  });

  it("fails the release, named, when it edits another stage's record, even keeping its size and mtime", async () => {
    // The fault-injection review's forgery: the package record's Python
    // version, which BUILD_META and the provenance would have carried, signed.
    const record = join(ws, 'dist/manifest/helix-studio/package.json');
    const genuine = await readFile(record, 'utf8');
    const python = /"python": "([^"]+)"/.exec(genuine)?.[1];
    expect(python, genuine).toBeDefined();
    await edit(LIB, (t) =>
      t
        .replace("import { join } from 'node:path';", "import { join } from 'node:path';\nimport { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';")
        .replace(
          /(\n {2}return rows\.length;)/,
          [
            '',
            "  const record = join(inputs.releaseDir, '..', 'manifest', 'helix-studio', 'package.json');",
            '  const was = statSync(record);',
            "  writeFileSync(record, readFileSync(record, 'utf8').replace(/(\"python\": \")([^\"]+)/, (_m: string, key: string, v: string) => key + '9'.repeat(v.length)));",
            '  utimesSync(record, was.atime, was.mtime);',
          ].join('\n') + '$1',
        ),
    );
    try {
      const out = await failingRelease(`custom stage "${STAGE}" wrote outside its declared outputs: dist/manifest/helix-studio/package.json (changed)`);
      expect(out).toContain('what it changed or deleted under dist/ is no longer to be trusted: run npx nx run release:clean before the next release');
      // The forgery is on disk (the check knows digests, not contents), of the same size, and nothing after the stage ran on it.
      const forged = await readFile(record, 'utf8');
      expect(forged).toContain(`"python": "${'9'.repeat(python!.length)}"`);
      expect(forged.length).toBe(genuine.length);
      for (const file of ['BUILD_META.txt', 'release-provenance.intoto.json']) {
        if (existsSync(join(release, file))) expect(await readFile(join(release, file), 'utf8'), file).not.toContain('9'.repeat(python!.length));
      }
    } finally {
      await writeFile(record, genuine);
    }
    await restore();
  });

  it('fails the release, named, when it writes a git-ignored path of the workspace, and removes what it wrote', async () => {
    // A compiled module beside the app's sources: git ignores __pycache__/, so
    // `git status` would never show it; the next build's Python would load it.
    const pyc = 'workspace-fixtures/studio/src/helix_studio/__pycache__/forged.cpython-312.pyc';
    const hadCache = existsSync(join(ws, pyc, '..'));
    await edit(LIB, (t) =>
      t
        .replace("import { join } from 'node:path';", "import { join } from 'node:path';\nimport { mkdirSync, writeFileSync } from 'node:fs';")
        .replace(
          /(\n {2}return rows\.length;)/,
          [
            '',
            `  const pyc = join(inputs.releaseDir, '..', '..', '${pyc}');`,
            "  mkdirSync(join(pyc, '..'), { recursive: true });",
            "  writeFileSync(pyc, 'not python');",
          ].join('\n') + '$1',
        ),
    );
    const out = await failingRelease(`custom stage "${STAGE}" wrote outside its declared outputs: ${pyc} (created, removed)`);
    expect(out).not.toContain('(git checkout for a tracked file)');
    expect(existsSync(join(ws, pyc))).toBe(false);
    // The folder it made for it goes too (one that was there stays).
    expect(existsSync(join(ws, pyc, '..'))).toBe(hadCache);
    await restore();
  });

  it('runs again once the stage is fixed: the release passes and verifies', async () => {
    const r = await nx(ws, ['run', 'release:all']);
    expect(r.code, r.output).toBe(0);
    expect(plain(r.output)).toContain(`custom stage ${STAGE}: ${OUTPUT}`);
    const record = JSON.parse(await readFile(join(ws, 'dist/manifest/helix-studio/package.json'), 'utf8')) as { data: { python: string } };
    expect(record.data.python).toMatch(/^3\.\d+\.\d+$/);
    const v = await run(process.execPath, [join(ws, 'packages/cli/bin/helix-release.cjs'), 'verify', release, '--fingerprint', DEV_FINGERPRINT, '--allow-development-key'], { cwd: ws });
    expect(v.code, v.output).toBe(0);
    expect((await stat(join(release, OUTPUT))).size).toBeGreaterThan(0);
  });
});

