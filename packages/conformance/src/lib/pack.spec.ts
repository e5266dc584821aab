import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { listFiles, resolveConfig } from '@helix-release/core';
import { assemblePack, packSources } from './pack';

let ws: string;
const put = async (rel: string, content: string) => {
  await mkdir(dirname(join(ws, rel)), { recursive: true });
  await writeFile(join(ws, rel), content);
};

beforeEach(async () => {
  ws = await mkdtemp(join(tmpdir(), 'helix-pack-'));
  await put('pack/cases/01-version/args', '--version\n');
  await put('pack/cases/10-studio-only/app', 'helix-studio\n');
  await put('pack/cases/10-studio-only/args', 'x\n');
  await put('pack/fixtures/hostile/a.zip', 'zip');
  await put('greeter-pack/cases/greeter-hello/args', 'hello\n');
  await put('greeter-pack/cases/greeter-hello/expect-stdout', '^hello$\n');
});
afterEach(async () => {
  await rm(ws, { recursive: true, force: true });
});

describe('packSources', () => {
  it('lists the release pack first, then each app pack by app name', () => {
    const config = resolveConfig({
      apps: { root: 'apps', settings: { zeta: { conformance: 'z' }, alpha: { conformance: 'a' }, beta: { env: { X: '1' } } } },
      conformance: { pack: 'pack' },
    });
    expect(packSources(config)).toEqual([{ dir: 'pack' }, { dir: 'a', app: 'alpha' }, { dir: 'z', app: 'zeta' }]);
    expect(packSources(resolveConfig({ apps: { root: 'apps' } }))).toEqual([]);
  });
});

describe('assemblePack', () => {
  it('merges the packs, giving each case of an app pack an app file naming that app', async () => {
    const out = join(ws, 'out');
    const files = await assemblePack(ws, [{ dir: 'pack' }, { dir: 'greeter-pack', app: 'helix-greeter' }], out);
    expect(files).toEqual([
      'cases/01-version/args',
      'cases/10-studio-only/app',
      'cases/10-studio-only/args',
      'cases/greeter-hello/app',
      'cases/greeter-hello/args',
      'cases/greeter-hello/expect-stdout',
      'fixtures/hostile/a.zip',
    ]);
    expect(await listFiles(out)).toEqual(files);
    expect(await readFile(join(out, 'cases/greeter-hello/app'), 'utf8')).toBe('helix-greeter\n');
    // The release pack's own cases are as they were: 01-version stays for every app.
    expect(files).not.toContain('cases/01-version/app');
    expect((await stat(join(out, 'cases/01-version/args'))).mode & 0o777).toBe(0o644);
  });

  it('takes a file two packs give alike once, and an app file that names its own app', async () => {
    await put('greeter-pack/fixtures/hostile/a.zip', 'zip');
    await put('greeter-pack/cases/greeter-hello/app', 'helix-greeter\n');
    const files = await assemblePack(ws, [{ dir: 'pack' }, { dir: 'greeter-pack', app: 'helix-greeter' }], join(ws, 'out'));
    expect(files.filter((f) => f === 'fixtures/hostile/a.zip')).toHaveLength(1);
    expect(files).toContain('cases/greeter-hello/app');
  });

  it.each([
    ['a case name both packs use', 'greeter-pack/cases/01-version/args', 'other\n', /cases\/01-version\/args comes from both pack\/cases\/01-version\/args and greeter-pack\/cases\/01-version\/args/],
    ['an app pack case naming another app', 'greeter-pack/cases/greeter-hello/app', 'helix-studio\n', /names app "helix-studio"; remove its app file, or move it to that app's pack/],
  ])('refuses %s with CONFORMANCE_PACK_CONFLICT', async (_what, rel, content, message) => {
    await put(rel, content);
    await expect(assemblePack(ws, [{ dir: 'pack' }, { dir: 'greeter-pack', app: 'helix-greeter' }], join(ws, 'out'))).rejects.toThrow(
      expect.objectContaining({ code: 'CONFORMANCE_PACK_CONFLICT', message: expect.stringMatching(message) }),
    );
  });
});
