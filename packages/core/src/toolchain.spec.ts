import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GO_BUILDINFO_START, goBuildInfo, goBuildInfoBlock, resolveSyft, resolveUv, syftBuildProblem, toolchainPaths, type ToolchainPins } from './toolchain';

/** A version no real syft reports, so a syft on this machine's PATH can never satisfy the pin. */
const PINNED = 'v0.0.0-test';

let ws: string;

// Our own files (the pins) come from the temp workspace in these tests, not from this repository.
const assets = vi.hoisted(() => ({ root: '' }));
vi.mock('./assets', async (original) => ({ ...(await original<typeof import('./assets')>()), helixFile: (rel: string) => `${assets.root}/${rel}` }));

/** Go build information as a Go binary embeds it, for the fakes below (after their `exit`, so sh never reads it). */
const buildInfo = (path: string, module: string, version: string, sum?: string) => goBuildInfoBlock({ path, module, version, sum });
const SYFT_BUILD = buildInfo('github.com/anchore/syft/cmd/syft', 'github.com/anchore/syft', PINNED, 'h1:pinnedsum=');

/** A fake syft at `path` answering `version -o json` with `answer` (raw stdout), carrying `info` (a build of the pinned module by default). */
async function fakeSyft(path: string, answer: string, info: Buffer | null = SYFT_BUILD): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  const script = `#!/bin/sh\n[ "$1 $2 $3" = "version -o json" ] || exit 2\nprintf '%s\\n' '${answer}'\nexit 0\n`;
  await writeFile(path, Buffer.concat([Buffer.from(script), info ?? Buffer.alloc(0)]), { mode: 0o755 });
  return path;
}
const versionJson = (v: string) => JSON.stringify({ application: 'syft', version: v });

beforeAll(async () => {
  ws = await mkdtemp(join(tmpdir(), 'helix-toolchain-'));
  assets.root = ws;
  await mkdir(join(ws, 'tools', 'toolchain'), { recursive: true });
  await writeFile(join(ws, 'tools', 'toolchain', 'pins.json'), JSON.stringify({ python: { minimum: '3.11', requirements: 'r.txt', devRequirements: 'd.txt' }, syft: { module: 'github.com/anchore/syft/cmd/syft', version: PINNED }, go: { minimum: '1.24' } }));
});
afterAll(async () => {
  await rm(ws, { recursive: true, force: true });
});

describe('resolveSyft', () => {
  // resolveSyft reads only HELIX_SYFT from the env it is given; the bare
  // `syft` candidate is looked up on this process's PATH by runTool. That is
  // why the temp workspace pins a version no real syft has: whatever syft the
  // machine has cannot make these cases pass.
  const env = (helixSyft?: string): NodeJS.ProcessEnv => ({ PATH: '/nonexistent-bin', ...(helixSyft ? { HELIX_SYFT: helixSyft } : {}) });

  it.each<[string, () => Promise<NodeJS.ProcessEnv>, (() => string)[], string[]]>([
    ['HELIX_SYFT answers another version', async () => env(await fakeSyft(join(ws, 'fakes', 'syft-9'), versionJson('9.9.9'))), [() => `(found: ${join(ws, 'fakes', 'syft-9')} is 9.9.9`], []],
    ['HELIX_SYFT answers another v-prefixed version', async () => env(await fakeSyft(join(ws, 'fakes', 'syft-v1'), versionJson('v1.57.1'))), [() => `(found: ${join(ws, 'fakes', 'syft-v1')} is 1.57.1`], []],
    ['HELIX_SYFT does not exist', async () => env(join(ws, 'fakes', 'no-such-syft')), [], ['no-such-syft']],
    ['HELIX_SYFT prints no JSON', async () => env(await fakeSyft(join(ws, 'fakes', 'syft-garbage'), 'syft, some version')), [], ['syft-garbage']],
    ['the toolchain\'s own syft is another version', async () => (await fakeSyft(toolchainPaths(ws).syftLocal, versionJson('1.2.3')), env()), [() => `(found: ${toolchainPaths(ws).syftLocal} is 1.2.3`], []],
  ])('throws TOOL_NOT_FOUND naming the pins when %s', async (_what, arrange, mentions, absent) => {
    try {
      const err = await resolveSyft(ws, await arrange()).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'TOOL_NOT_FOUND', file: 'tools/toolchain/pins.json' });
      const message = (err as Error).message;
      expect(message).toMatch(/^syft v0\.0\.0-test is required/);
      expect(message).toContain('run `npx nx run release:toolchain` to build it (needs Go), or put syft v0.0.0-test on PATH');
      for (const m of mentions) expect(message).toContain(m());
      for (const a of absent) expect(message).not.toContain(a);
    } finally {
      await rm(toolchainPaths(ws).root, { recursive: true, force: true });
    }
  });

  it.each([['0.0.0-test'], ['v0.0.0-test']])('takes HELIX_SYFT when it answers the pinned version (%s)', async (answer) => {
    const fake = await fakeSyft(join(ws, 'fakes', `syft-pinned-${answer}`), versionJson(answer));
    const sha256 = createHash('sha256').update(await readFile(fake)).digest('hex');
    expect(await resolveSyft(ws, env(fake))).toEqual({ command: fake, version: '0.0.0-test', sha256, moduleSum: 'h1:pinnedsum=' });
  });

  it.each([
    ['no Go build information at all', null, 'holds no Go build information, so it is no build of syft'],
    ['the build information of another program', buildInfo('example.com/fake/cmd/syft', 'example.com/fake', PINNED), 'was built from example.com/fake/cmd/syft (example.com/fake), not github.com/anchore/syft/cmd/syft'],
    ['a build of another syft version', buildInfo('github.com/anchore/syft/cmd/syft', 'github.com/anchore/syft', 'v1.0.0'), 'was built from github.com/anchore/syft v1.0.0, not v0.0.0-test'],
  ])('refuses a program that answers the pinned version but carries %s', async (_name, info, why) => {
    const fake = await fakeSyft(join(ws, 'fakes', `syft-impostor-${Math.random().toString(36).slice(2)}`), versionJson(PINNED), info);
    const err = (await resolveSyft(ws, env(fake)).catch((e: unknown) => e)) as Error & { code?: string };
    expect(err.code).toBe('TOOL_NOT_FOUND');
    expect(err.message).toContain(`${fake} answers 0.0.0-test but it ${why}`);
  });
});

describe('syftBuildProblem', () => {
  const pins = (sum?: string) => ({ syft: { module: 'github.com/anchore/syft/cmd/syft', version: 'v1.57.1', ...(sum ? { sum } : {}) } }) as ToolchainPins;
  const real = buildInfo('github.com/anchore/syft/cmd/syft', 'github.com/anchore/syft', 'v1.57.1', 'h1:real=');

  it('accepts a build of the pinned module, with or without a pinned sum', () => {
    expect(syftBuildProblem(Buffer.concat([Buffer.alloc(64, 1), real, Buffer.alloc(64, 2)]), pins('h1:real='))).toBeUndefined();
    expect(syftBuildProblem(real, pins())).toBeUndefined();
  });

  it('refuses one whose module sum is not the pinned one: built from other sources', () => {
    expect(syftBuildProblem(real, pins('h1:other='))).toBe('its github.com/anchore/syft v1.57.1 has the module sum h1:real=, not the pinned h1:other=: it was built from other sources');
  });

  it('reads the build information past an earlier copy of the start marker', () => {
    expect(goBuildInfo(Buffer.concat([GO_BUILDINFO_START, Buffer.from('not build info'), real]))).toEqual({ path: 'github.com/anchore/syft/cmd/syft', module: 'github.com/anchore/syft', version: 'v1.57.1', sum: 'h1:real=' });
  });
});

describe('resolveUv', () => {
  it('throws TOOL_NOT_FOUND naming the missing uv in a workspace without a provisioned toolchain', async () => {
    const { uv } = toolchainPaths(ws);
    await expect(resolveUv(ws)).rejects.toMatchObject({ code: 'TOOL_NOT_FOUND', file: uv, message: 'uv is not provisioned; run `npx nx run release:toolchain` first' });
  });

  it('returns the toolchain\'s uv once it is there', async () => {
    const { uv } = toolchainPaths(ws);
    await mkdir(dirname(uv), { recursive: true });
    await writeFile(uv, '#!/bin/sh\n', { mode: 0o755 });
    try {
      expect(await resolveUv(ws)).toBe(uv);
    } finally {
      await rm(toolchainPaths(ws).root, { recursive: true, force: true });
    }
  });
});
