/**
 * Where the provisioned toolchain lives and how stages find it. Provisioning
 * itself is the `toolchain` package's job; stages only locate and check.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReleaseError } from './errors';
import type { ReleaseRecords } from './records';
import { helixFile } from './assets';
import { exists } from './fsx';
import { runTool } from './tool';

/** The pins file, named as helix-release's own file (see assets.ts). */
export const PINS_FILE = 'tools/toolchain/pins.json';

/** The committed pins, `tools/toolchain/pins.json`. Its paths name helix-release's own files too. */
export interface ToolchainPins {
  python: { minimum: string; requirements: string; devRequirements: string };
  syft: { module: string; version: string };
  go: { minimum: string };
  /** Workflow linter for the CI files; built only by `toolchain --dev`. */
  actionlint?: { module: string; version: string };
}

/** Absolute paths of the toolchain of a workspace. */
export interface ToolchainPaths {
  /** `.helix/toolchain` */
  root: string;
  /** Virtual environment with PyInstaller and uv (and, with --dev, spdx-tools). */
  venv: string;
  venvPython: string;
  uv: string;
  /** Where a syft built by the toolchain goes. */
  syftLocal: string;
  /** Where `toolchain --dev` builds actionlint (test-only). */
  actionlint: string;
  pinsFile: string;
}

const isWindows = process.platform === 'win32';

/** The toolchain paths of `workspaceRoot`. */
export function toolchainPaths(workspaceRoot: string): ToolchainPaths {
  const root = join(workspaceRoot, '.helix', 'toolchain');
  const venv = join(root, 'venv');
  const bin = join(venv, isWindows ? 'Scripts' : 'bin');
  return {
    root,
    venv,
    venvPython: join(bin, isWindows ? 'python.exe' : 'python'),
    uv: join(bin, isWindows ? 'uv.exe' : 'uv'),
    syftLocal: join(root, 'bin', isWindows ? 'syft.exe' : 'syft'),
    actionlint: join(root, 'bin', isWindows ? 'actionlint.exe' : 'actionlint'),
    pinsFile: helixFile(PINS_FILE),
  };
}

/** Reads `tools/toolchain/pins.json`. */
export function readPins(workspaceRoot: string): ToolchainPins {
  const file = toolchainPaths(workspaceRoot).pinsFile;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ToolchainPins;
  } catch (cause) {
    throw new ReleaseError('FILE_MISSING', 'cannot read the toolchain pins of helix-release; restore the file from git, or reinstall @helix-release/core', { file, cause });
  }
}

/** The version a syft binary reports (`1.57.1`), or undefined when it cannot run. */
export async function syftVersion(command: string): Promise<string | undefined> {
  try {
    const { stdout } = await runTool({ command, args: ['version', '-o', 'json'], timeoutMs: 60_000 });
    const version = (JSON.parse(stdout) as { version?: string }).version;
    return version?.replace(/^v/, '');
  } catch {
    return undefined;
  }
}

/**
 * The syft to run: the toolchain's own build, else one on PATH of exactly the
 * pinned version. Throws TOOL_NOT_FOUND saying how to provision it.
 */
export async function resolveSyft(workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<{ command: string; version: string }> {
  const pins = readPins(workspaceRoot);
  const wanted = pins.syft.version.replace(/^v/, '');
  const candidates = [toolchainPaths(workspaceRoot).syftLocal];
  if (env['HELIX_SYFT']) candidates.unshift(env['HELIX_SYFT']);
  candidates.push('syft');
  const seen: string[] = [];
  for (const candidate of candidates) {
    if (candidate.includes('/') && !(await exists(candidate))) continue;
    const version = await syftVersion(candidate);
    if (version === wanted) return { command: candidate, version };
    if (version !== undefined) seen.push(`${candidate} is ${version}`);
  }
  throw new ReleaseError(
    'TOOL_NOT_FOUND',
    `syft ${pins.syft.version} is required${seen.length ? ` (found: ${seen.join('; ')})` : ''}; ` +
      'run `npx nx run release:toolchain` to build it (needs Go), or put syft ' +
      `${pins.syft.version} on PATH`,
    { file: 'tools/toolchain/pins.json' },
  );
}

/** Checks the toolchain's uv exists; throws TOOL_NOT_FOUND with the fix. */
export async function resolveUv(workspaceRoot: string): Promise<string> {
  const { uv } = toolchainPaths(workspaceRoot);
  if (!(await exists(uv))) {
    throw new ReleaseError('TOOL_NOT_FOUND', 'uv is not provisioned; run `npx nx run release:toolchain` first', { file: uv });
  }
  return uv;
}

/** The version a hash-locked toolchain requirements file pins for `name` (e.g. `pyinstaller`). */
export function pinnedToolVersion(workspaceRoot: string, name: string): string | undefined {
  const pins = readPins(workspaceRoot);
  const text = readFileSync(helixFile(pins.python.requirements), 'utf8');
  const m = new RegExp(`^${name.replace(/[-_.]/g, '[-_.]')}==([^\\s;\\\\]+)`, 'mi').exec(text);
  return m?.[1];
}

/** The version of a Python interpreter (`3.11.7`). */
export async function pythonVersionOf(command: string): Promise<string> {
  const { stdout } = await runTool({ command, args: ['-c', 'import platform; print(platform.python_version())'] });
  return stdout.trim();
}

/** The toolchain a release was built with. */
export interface ReleaseToolVersions {
  /** Distinct Python versions of the apps' builds (sorted); the local interpreter's when nothing was built here. */
  python: string[];
  /** Distinct PyInstaller versions of the builds; the pinned one when nothing was built here. */
  pyinstaller: string[];
  /** True when the artifacts were not built here, so python/pyinstaller are the local interpreter and the pin. */
  fromPins: boolean;
  uv: string;
  syft: string;
  node: string;
  zlib: string;
}

/**
 * One derivation of the release's toolchain for BUILD_META.txt and the
 * provenance: what the package and sbom stages recorded, else (artifacts
 * imported from elsewhere) the local interpreter and the pins.
 */
export async function releaseToolVersions(workspaceRoot: string, pythonCommand: string, records: ReleaseRecords): Promise<ReleaseToolVersions> {
  const builds = records.of('package').map((r) => r.data);
  const distinct = (values: (string | undefined)[]) => [...new Set(values.filter((v): v is string => Boolean(v)))].sort();
  const syft = records.of('sbom')[0]?.data?.syft;
  const python = distinct(builds.map((b) => b?.python));
  const pyinstaller = distinct(builds.map((b) => b?.pyinstaller));
  const fromPins = python.length === 0;
  return {
    python: fromPins ? [await pythonVersionOf(pythonCommand)] : python,
    pyinstaller: pyinstaller.length ? pyinstaller : [pinnedToolVersion(workspaceRoot, 'pyinstaller') ?? 'unknown'],
    fromPins,
    uv: pinnedToolVersion(workspaceRoot, 'uv') ?? 'unknown',
    syft: (syft ?? readPins(workspaceRoot).syft.version).replace(/^v/, ''),
    node: process.versions.node,
    zlib: process.versions.zlib ?? 'unknown',
  };
}
