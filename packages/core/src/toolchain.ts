/**
 * Where the provisioned toolchain lives and how stages find it. Provisioning
 * itself is the `toolchain` package's job; stages only locate and check.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
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
  /** `sum`: the Go checksum database's hash (`h1:…`) of the module at that version, which a real build embeds. */
  syft: { module: string; version: string; sum?: string };
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
 * The bytes that open and close the module information a Go binary embeds
 * (cmd/go's buildinfo): `path <main package>`, `mod <module> <version> <h1 sum>`,
 * then the `dep` and `build` lines.
 */
export const GO_BUILDINFO_START = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
export const GO_BUILDINFO_END = Buffer.from('f932433186182072008242104116d8f2', 'hex');

/** The main package and module a Go binary says it was built from, or undefined when it holds no build information. */
export function goBuildInfo(binary: Buffer): { path: string; module: string; version: string; sum?: string } | undefined {
  for (let at = binary.indexOf(GO_BUILDINFO_START); at >= 0; at = binary.indexOf(GO_BUILDINFO_START, at + 1)) {
    const end = binary.indexOf(GO_BUILDINFO_END, at + GO_BUILDINFO_START.length);
    if (end < 0 || end - at > 1 << 20) continue;
    const lines = binary.subarray(at + GO_BUILDINFO_START.length, end).toString('utf8').split('\n');
    const path = /^path\t(\S+)$/.exec(lines[0] ?? '')?.[1];
    const mod = /^mod\t(\S+)\t(\S+)(?:\t(\S+))?$/.exec(lines[1] ?? '');
    if (path && mod) return { path, module: mod[1]!, version: mod[2]!, ...(mod[3] ? { sum: mod[3] } : {}) };
  }
  return undefined;
}

/** The build-information block goBuildInfo reads, as a Go build writes it (for fakes of a Go tool in tests). */
export function goBuildInfoBlock(info: { path: string; module: string; version: string; sum?: string }): Buffer {
  const text = `path\t${info.path}\nmod\t${info.module}\t${info.version}${info.sum ? `\t${info.sum}` : ''}\nbuild\t-trimpath=true\n`;
  return Buffer.concat([GO_BUILDINFO_START, Buffer.from(text), GO_BUILDINFO_END]);
}

/** The bytes of a command's file: itself when it names a path, else the first match on PATH; undefined when unreadable. */
export async function readCommandFile(command: string, env: NodeJS.ProcessEnv = process.env): Promise<Buffer | undefined> {
  const files = command.includes('/')
    ? [isAbsolute(command) ? command : join(process.cwd(), command)]
    : (env['PATH'] ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  for (const file of files) {
    if (await exists(file)) return readFile(file).catch(() => undefined);
  }
  return undefined;
}

/** The syft a release runs, identified: its version, the sha256 of its binary and the module sum it was built from. */
export interface SyftIdentity {
  command: string;
  version: string;
  sha256: string;
  /** The `h1:` sum of github.com/anchore/syft its build information names. */
  moduleSum?: string;
}

/**
 * Why `binary` is not a build of the pinned syft module (undefined when it is):
 * a program that merely answers the pinned version is not syft.
 */
export function syftBuildProblem(binary: Buffer, pins: ToolchainPins): string | undefined {
  return syftInfoProblem(goBuildInfo(binary), pins);
}

/** {@link syftBuildProblem} on build information already read. */
function syftInfoProblem(info: ReturnType<typeof goBuildInfo>, pins: ToolchainPins): string | undefined {
  const module = pins.syft.module.replace(/\/cmd\/syft$/, '');
  if (!info) return 'it holds no Go build information, so it is no build of syft';
  if (info.path !== pins.syft.module || info.module !== module) return `it was built from ${info.path} (${info.module}), not ${pins.syft.module}`;
  if (info.version !== pins.syft.version) return `it was built from ${info.module} ${info.version}, not ${pins.syft.version}`;
  if (pins.syft.sum && info.sum !== pins.syft.sum) return `its ${module} ${info.version} has the module sum ${info.sum ?? '(none)'}, not the pinned ${pins.syft.sum}: it was built from other sources`;
  return undefined;
}

/**
 * The syft to run: the toolchain's own build, else one on PATH of exactly the
 * pinned version, built from the pinned module (its embedded Go build
 * information, with the module sum when pins.json gives it). Throws
 * TOOL_NOT_FOUND saying how to provision it.
 */
export async function resolveSyft(workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<SyftIdentity> {
  const pins = readPins(workspaceRoot);
  const wanted = pins.syft.version.replace(/^v/, '');
  const candidates = [toolchainPaths(workspaceRoot).syftLocal];
  if (env['HELIX_SYFT']) candidates.unshift(env['HELIX_SYFT']);
  candidates.push('syft');
  const seen: string[] = [];
  for (const candidate of candidates) {
    if (candidate.includes('/') && !(await exists(candidate))) continue;
    const version = await syftVersion(candidate);
    if (version !== wanted) {
      if (version !== undefined) seen.push(`${candidate} is ${version}`);
      continue;
    }
    const binary = await readCommandFile(candidate, env);
    if (!binary) {
      seen.push(`${candidate} answers ${version} but its file cannot be read to check it`);
      continue;
    }
    const info = goBuildInfo(binary);
    const problem = syftInfoProblem(info, pins);
    if (problem) {
      seen.push(`${candidate} answers ${version} but ${problem}`);
      continue;
    }
    const sum = info?.sum;
    return { command: candidate, version, sha256: createHash('sha256').update(binary).digest('hex'), ...(sum ? { moduleSum: sum } : {}) };
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
  /** The sha256 of the syft binary that wrote the SBOMs (none when no SBOM was written here). */
  syftSha256?: string;
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
  const syftSha256 = records.of('sbom')[0]?.data?.syftSha256;
  const python = distinct(builds.map((b) => b?.python));
  const pyinstaller = distinct(builds.map((b) => b?.pyinstaller));
  const fromPins = python.length === 0;
  return {
    python: fromPins ? [await pythonVersionOf(pythonCommand)] : python,
    pyinstaller: pyinstaller.length ? pyinstaller : [pinnedToolVersion(workspaceRoot, 'pyinstaller') ?? 'unknown'],
    fromPins,
    uv: pinnedToolVersion(workspaceRoot, 'uv') ?? 'unknown',
    syft: (syft ?? readPins(workspaceRoot).syft.version).replace(/^v/, ''),
    ...(syftSha256 ? { syftSha256 } : {}),
    node: process.versions.node,
    zlib: process.versions.zlib ?? 'unknown',
  };
}
