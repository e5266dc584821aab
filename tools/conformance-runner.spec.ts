/**
 * tools/conformance.sh, the pack runner shipped in every release, run for
 * real on a tiny pack: a case's `app` file picks the app it is for, a case
 * without one is for every app, and an app with no case is refused.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const RUNNER = resolve(__dirname, 'conformance.sh');
let dir: string;

async function put(rel: string, content: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(join(dir, rel)), { recursive: true });
  await writeFile(join(dir, rel), content, { mode });
}

function runner(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', [RUNNER, ...args], { encoding: 'utf8', env: { PATH: process.env['PATH'], TMPDIR: dir } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'helix-conformance-runner-'));
  for (const app of ['acme', 'other', 'lonely']) await put(`bin/${app}`, `#!/bin/sh\n[ "$1" = --version ] && echo "${app} 1.0.0"\n`, 0o755);
  await put('pack/cases/acme-version/app', 'acme\n');
  await put('pack/cases/acme-version/args', '--version\n');
  await put('pack/cases/acme-version/expect-stdout', '^acme 1\\.0\\.0$\n');
  await put('pack/cases/other-version/app', 'other\n');
  await put('pack/cases/other-version/args', '--version\n');
  await put('pack/cases/other-version/expect-stdout', '^other 1\\.0\\.0$\n');
  await put('pack/cases/any-version/args', '--version\n');
  await put('pack/cases/any-version/expect-stdout', '^[a-z]+ 1\\.0\\.0$\n');
  await put('lonely-pack/cases/acme-only/app', 'acme\n');
  await put('lonely-pack/cases/acme-only/args', '--version\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tools/conformance.sh', () => {
  it('runs the cases of that app and the cases for every app, and no other', () => {
    const acme = runner(['--app', join(dir, 'bin/acme'), '--pack', join(dir, 'pack')]);
    expect(acme.stdout).toBe('PASS acme-version\nPASS any-version\n2 passed, 0 failed\n');
    expect(acme.status).toBe(0);
    const other = runner(['--app', join(dir, 'bin/other'), '--pack', join(dir, 'pack')]);
    expect(other.stdout).toBe('PASS any-version\nPASS other-version\n2 passed, 0 failed\n');
  });

  it('fails a case whose expectation the app does not meet', async () => {
    await put('pack/cases/acme-wrong/app', 'acme\n');
    await put('pack/cases/acme-wrong/args', '--version\n');
    await put('pack/cases/acme-wrong/expect-stdout', '^acme 2\\.0\\.0$\n');
    try {
      const r = runner(['--app', join(dir, 'bin/acme'), '--pack', join(dir, 'pack')]);
      expect(r.stdout).toContain('FAIL acme-wrong: stdout has no line matching /^acme 2\\.0\\.0$/');
      expect(r.stdout).toContain('2 passed, 1 failed');
      expect(r.status).toBe(1);
    } finally {
      await rm(join(dir, 'pack/cases/acme-wrong'), { recursive: true });
    }
  });

  it('refuses an app that no case is for, naming it (exit 2)', () => {
    const r = runner(['--app', join(dir, 'bin/lonely'), '--pack', join(dir, 'lonely-pack')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no case of');
    expect(r.stderr).toContain('is for lonely (1 are for other apps)');
    expect(r.stdout).toBe('');
  });

  it('takes --studio as --app, and needs no --plugins', () => {
    const r = runner(['--studio', join(dir, 'bin/acme'), '--pack', join(dir, 'pack')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('2 passed, 0 failed');
  });

  it('is bad usage without --app', () => {
    const r = runner(['--pack', join(dir, 'pack')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--app PATH/TO/APP');
  });
});

// The runner is plain bash: keep it parseable by `bash -n`.
it('parses with bash -n', () => {
  expect(() => execFileSync('bash', ['-n', RUNNER])).not.toThrow();
});
