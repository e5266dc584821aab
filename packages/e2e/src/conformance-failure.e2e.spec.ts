/**
 * A failing conformance case stops the release: in a copy of the base
 * workspace (its Nx cache gives every stage before conformance), a case the
 * Studio cannot pass is added to the pack and committed, then
 * `npx nx run release:all` exits non-zero naming the case,
 * conformance-results.json records FAILED with the case, and no stage after
 * conformance runs: nothing is summed, described by provenance or signed.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listFiles } from '@helix-release/core';
import { cloneWorkspace, git, nx, ranTasks, removeTemp, run, tempRoot, type RunResult } from './workspace';

const CASE = '90-expected-to-fail';
const NEVER_PRINTED = '^this line is never printed by helix-studio$';
/** What the stages after conformance write. */
const LATER_STAGES = ['release:sbom', 'release:checksums', 'release:build-meta', 'release:provenance', 'release:sign'];
const EVIDENCE = (f: string) => f === 'SHA256SUMS.txt' || f === 'BUILD_META.txt' || f === 'release-provenance.intoto.json' || f.endsWith('.asc') || f.endsWith('.dsse.json') || f === 'release-signing-public-key.pem' || f === 'release-signing-key-fingerprint.txt' || /^SBOM-.*\.spdx\.json$/.test(f);

const base = inject('baseWorkspace');
let root: string;
let ws: string;
let release: string;
let build: RunResult;
/** The evidence files of the base release in the copy before the run: sha256 and mtime. */
const before = new Map<string, { sha256: string; mtimeMs: number }>();

async function evidence(dir: string): Promise<Map<string, { sha256: string; mtimeMs: number }>> {
  const out = new Map<string, { sha256: string; mtimeMs: number }>();
  for (const f of (await listFiles(dir)).filter(EVIDENCE)) {
    out.set(f, { sha256: createHash('sha256').update(await readFile(join(dir, f))).digest('hex'), mtimeMs: (await stat(join(dir, f))).mtimeMs });
  }
  return out;
}

beforeAll(async () => {
  root = await tempRoot('conformance-failure');
  ws = await cloneWorkspace(base, join(root, 'ws'));
  release = join(ws, 'dist/release');
  for (const [f, v] of await evidence(release)) before.set(f, v);
  expect(before.has('SHA256SUMS.txt.asc')).toBe(true);

  const caseDir = join(ws, 'workspace-fixtures/conformance/cases', CASE);
  await mkdir(caseDir, { recursive: true });
  // A Studio case: its app file keeps it off helix-greeter's run.
  await writeFile(join(caseDir, 'app'), 'helix-studio\n');
  await writeFile(join(caseDir, 'args'), '--headless\necho\nconformance works\n');
  await writeFile(join(caseDir, 'expect-stdout'), `${NEVER_PRINTED}\n`);
  git(ws, 'add', '-A');
  git(ws, 'commit', '-q', '-m', `conformance: add ${CASE}`);
  build = await nx(ws, ['run', 'release:all']);
});

afterAll(async () => {
  await removeTemp(root);
});

describe('a failing conformance case', () => {
  it('fails npx nx run release:all, naming the case', () => {
    expect(build.code, build.output).not.toBe(0);
    expect(build.output).toContain(CASE);
    expect(build.output).toMatch(new RegExp(`FAIL ${CASE}|case helix-studio/${CASE} failed`));
    expect(build.output).toContain('CONFORMANCE_FAILED');
    // The pack really ran against the Studio: the other cases passed.
    expect(ranTasks(build.output)).toContain('release:conformance');
  });

  it('records FAILED with the case in conformance-results.json and the log', async () => {
    const results = JSON.parse(await readFile(join(release, 'conformance-results.json'), 'utf8')) as {
      predicate: { result: string; passedTests: string[]; failedTests: string[] };
    };
    expect(results.predicate.result).toBe('FAILED');
    // Two installers: each case is named after its app.
    expect(results.predicate.failedTests).toEqual([`helix-studio/${CASE}`]);
    expect(results.predicate.passedTests).toContain('helix-studio/01-version');
    expect(results.predicate.passedTests).toContain('helix-greeter/helix-greeter-01-version');
    expect(results.predicate.passedTests).not.toContain(`helix-studio/${CASE}`);
    const log = await readFile(join(release, 'conformance.log'), 'utf8');
    expect(log).toContain(`=== ${CASE}`);
    expect(log).toMatch(/result: FAIL \(stdout has no line matching/);
  });

  it('runs no stage after conformance, and leaves no stale evidence describing the earlier build', async () => {
    const ran = ranTasks(build.output);
    for (const task of LATER_STAGES) expect(ran, build.output).not.toContain(task);
    expect(build.output).not.toMatch(/\[release:(sbom|checksums|build-meta|provenance|sign)\]/);
    // The sums, BUILD_META, statement and signatures of the earlier, passing
    // build are removed: they would describe a release that is not there.
    const after = await evidence(release);
    for (const gone of ['SHA256SUMS.txt', 'SHA256SUMS.txt.asc', 'BUILD_META.txt', 'release-provenance.intoto.json', 'release-provenance.intoto.json.asc', 'release-provenance.intoto.json.dsse.json', 'release-signing-public-key.pem', 'release-signing-key-fingerprint.txt']) {
      expect(before.has(gone), `${gone} existed before the run`).toBe(true);
      expect(after.has(gone), `${gone} was left behind`).toBe(false);
    }
    // What remains is the SBOMs. Each describes an artifact whose bytes did not
    // change and does not depend on conformance, so its task may run beside
    // the failing one: Nx restores it from the cache, with the same bytes.
    expect([...after.keys()].every((f) => /^SBOM-.*\.(spdx|cdx)\.json$/.test(f)), [...after.keys()].join(', ')).toBe(true);
    for (const [f, v] of after) expect(before.get(f)?.sha256, `${f} changed in the failing run`).toBe(v.sha256);
    // And the verifier refuses the folder rather than passing a half release.
    const verify = await run(process.execPath, [join(ws, 'packages/cli/bin/helix-release.cjs'), 'verify', release, '--tofu'], { cwd: ws });
    expect(verify.code).not.toBe(0);
    expect(verify.stdout).toMatch(/^FAILED (UNSIGNED|SUMS_MISSING): /m);
  });
});
