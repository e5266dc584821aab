/**
 * Provisions the toolchain idempotently from the pins in tools/toolchain:
 *
 * - a virtual environment `.helix/toolchain/venv` holding PyInstaller and uv,
 *   installed with `pip install --require-hashes` from a hash-locked file (and,
 *   with `dev`, the test-only tools of requirements-dev.txt);
 * - syft at the pinned version: one already on PATH is reused; otherwise it is
 *   built with `go install` into `.helix/toolchain/bin` with the version
 *   stamped in (a plain `go install` build reports "[not provided]");
 * - with `dev` only: actionlint at the pinned version, built with `go install`
 *   into `.helix/toolchain/bin` (the workflow lint of the parity test); kept
 *   when the binary there already reports the pin.
 *
 * A stamp file records the digest of what was installed, so a second run with
 * unchanged pins does nothing.
 */
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  ReleaseError,
  exists,
  helixFile,
  isProcessAlive,
  readPins,
  runTool,
  readCommandFile,
  sha256Hex,
  syftBuildProblem,
  syftVersion,
  toolchainPaths,
  writeFileAtomic,
  type Logger,
} from '@helix-release/core';

/** What provisioning found or installed. */
export interface ToolchainReport {
  python: { command: string; version: string };
  venv: string;
  venvReused: boolean;
  syft: { command: string; version: string; built: boolean };
  /** Only with `dev`. */
  actionlint?: { command: string; version: string; built: boolean };
}

function versionAtLeast(version: string, minimum: string): boolean {
  const a = version.split('.').map(Number);
  const b = minimum.split('.').map(Number);
  for (let i = 0; i < b.length; i++) {
    if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) > b[i]!;
  }
  return true;
}

/** Finds Python and checks its version; throws TOOL_NOT_FOUND saying what to install. */
export async function checkPython(command: string, minimum: string): Promise<string> {
  const hint = `install Python ${minimum} or newer with venv support (Debian: apt-get install python3 python3-venv), or set "python" in release.config.ts`;
  const { stdout } = await runTool({
    command,
    args: ['-c', 'import sys, venv; print("%d.%d.%d" % sys.version_info[:3])'],
    installHint: hint,
  }).catch((err: unknown) => {
    if (err instanceof ReleaseError && err.code === 'TOOL_FAILED') {
      throw new ReleaseError('TOOL_NOT_FOUND', `${command} cannot create virtual environments; ${hint}`, { file: command, cause: err });
    }
    throw err;
  });
  const version = stdout.trim();
  if (!versionAtLeast(version, minimum)) {
    throw new ReleaseError('TOOL_NOT_FOUND', `${command} is Python ${version}; ${hint}`, { file: command });
  }
  return version;
}

/** The version an actionlint binary reports (`v1.7.12`), or undefined when it cannot run. */
export async function actionlintVersion(command: string): Promise<string | undefined> {
  try {
    const { stdout } = await runTool({ command, args: ['-version'], timeoutMs: 60_000 });
    return stdout.trim().split('\n')[0]?.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** A tool built from the Go module proxy at a pinned version. */
interface GoTool {
  name: string;
  module: string;
  /** The pinned version as `go install` takes it (`v1.2.3`). */
  version: string;
  /** What the binary must report, and how to ask it. */
  reports: string;
  versionOf: (command: string) => Promise<string | undefined>;
  /** Existing binaries to reuse when they report `reports`, best first. */
  candidates: string[];
  /** Where `go install` puts it. */
  target: string;
  ldflags?: string;
  /** Appended to the "install Go" hint. */
  alternative?: string;
}

/**
 * Reuses a binary of the pinned version, or builds it with `go install`
 * (`-trimpath`, `CGO_ENABLED=0`) into `.helix/toolchain/bin` and checks that
 * the result reports the pin. A missing or too old Go is one clear error.
 */
async function provisionGoTool(tool: GoTool, root: string, minimumGo: string, logger: Logger, env: NodeJS.ProcessEnv): Promise<{ command: string; version: string; built: boolean }> {
  for (const candidate of tool.candidates) {
    if (candidate.includes('/') && !(await exists(candidate))) continue;
    const version = await tool.versionOf(candidate);
    if (version === tool.reports) {
      logger.info(`${tool.name} ${version} found at ${candidate}`);
      return { command: candidate, version, built: false };
    }
    if (version !== undefined) logger.info(`ignoring ${candidate}: it is ${tool.name} ${version}, the pin is ${tool.version}`);
  }
  const go = env['GO'] ?? 'go';
  const goHint = `Go ${minimumGo}+ is needed to build ${tool.name} ${tool.version} (from go.dev, or a distribution package that new: Debian 12's golang-go is older)${tool.alternative ? `, ${tool.alternative}` : ''}`;
  const goVersion = (await runTool({ command: go, args: ['env', 'GOVERSION'], installHint: goHint })).stdout.trim();
  if (!versionAtLeast(goVersion.replace(/^go/, ''), minimumGo)) {
    throw new ReleaseError('TOOL_NOT_FOUND', `found ${goVersion}; ${goHint}`, { file: 'go' });
  }
  logger.info(`building ${tool.name} ${tool.version} with ${goVersion} (go install; a few minutes the first time)`);
  await mkdir(join(root, 'bin'), { recursive: true });
  await runTool({
    command: go,
    args: ['install', '-trimpath', ...(tool.ldflags ? ['-ldflags', tool.ldflags] : []), `${tool.module}@${tool.version}`],
    env: { GOBIN: join(root, 'bin'), CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
    streamOutput: true,
    timeoutMs: 30 * 60_000,
  });
  const built = await tool.versionOf(tool.target);
  if (built !== tool.reports) {
    throw new ReleaseError('TOOL_FAILED', `the ${tool.name} just built reports version ${built ?? '(none)'}, expected ${tool.reports}`, { file: tool.target });
  }
  logger.info(`${tool.name} ${built} built at ${tool.target}`);
  return { command: tool.target, version: built, built: true };
}

/**
 * Builds actionlint at the pinned version into `.helix/toolchain/bin`
 * (idempotent: an existing binary reporting the pin is kept). Needs Go.
 */
export async function provisionActionlint(args: { workspaceRoot: string; logger: Logger; env?: NodeJS.ProcessEnv }): Promise<{ command: string; version: string; built: boolean }> {
  const pins = readPins(args.workspaceRoot);
  const paths = toolchainPaths(args.workspaceRoot);
  if (!pins.actionlint) {
    throw new ReleaseError('CONFIG_INVALID', 'tools/toolchain/pins.json has no "actionlint" pin; restore it from git', { file: 'tools/toolchain/pins.json' });
  }
  const version = `v${pins.actionlint.version.replace(/^v/, '')}`;
  return provisionGoTool(
    { name: 'actionlint', module: pins.actionlint.module, version, reports: version, versionOf: actionlintVersion, candidates: [paths.actionlint], target: paths.actionlint },
    paths.root,
    pins.go.minimum,
    args.logger,
    args.env ?? process.env,
  );
}

/** Who holds a lock: written into the lock directory by its owner. */
interface LockOwner {
  pid: number;
  host: string;
  started: string;
}

/**
 * Runs `fn` holding an exclusive lock on the toolchain folder (a lock
 * directory, created atomically, with its owner's PID and host in owner.json),
 * so that two provisioning runs at once (two test projects, two terminals)
 * never build into the same venv together. A lock whose owner is gone (a run
 * killed on this host) is taken over at once, saying so; one without an owner
 * after a minute; one of another host once it is older than `staleMs`.
 */
export async function withToolchainLock<T>(root: string, logger: Logger, fn: () => Promise<T>, staleMs = 30 * 60_000): Promise<T> {
  // Inside the toolchain folder, so a test workspace that links it shares the lock.
  const lock = join(root, '.lock');
  const ownerFile = join(lock, 'owner.json');
  await mkdir(root, { recursive: true });
  let waited = false;
  for (;;) {
    try {
      await mkdir(lock);
      const me: LockOwner = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
      await writeFile(ownerFile, `${JSON.stringify(me)}\n`);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = await readFile(ownerFile, 'utf8').then((t) => JSON.parse(t) as LockOwner).catch(() => undefined);
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (owner && owner.host === hostname() && !isProcessAlive(owner.pid)) {
        logger.warn(`taking over the toolchain lock of process ${owner.pid}, which is gone (interrupted since ${owner.started}): ${lock}`);
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      // No owner a minute after the lock was made: its maker died between the two steps.
      if (age > staleMs || (!owner && age > 60_000)) {
        logger.warn(`taking over a stale toolchain lock (${Math.round(age / 60_000)} min old${owner ? `, process ${owner.pid} on ${owner.host}` : ''}): ${lock}`);
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      if (!waited) {
        const who = owner ? `process ${owner.pid} on ${owner.host}, since ${owner.started}` : 'a run that has not written its owner yet';
        logger.info(`another run is provisioning the toolchain (${who}); waiting for it to finish (${lock})`);
      }
      waited = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/**
 * Provisions (or confirms) the Python part of the toolchain: PyInstaller and
 * uv (and with `dev` the test-only tools) in `.helix/toolchain/venv`, from
 * the hash-locked pins. The app generator needs only this part (uv).
 */
export async function provisionPythonTools(args: {
  workspaceRoot: string;
  python: string;
  dev: boolean;
  logger: Logger;
}): Promise<Pick<ToolchainReport, 'python' | 'venv' | 'venvReused'>> {
  const { workspaceRoot, logger } = args;
  const pins = readPins(workspaceRoot);
  const paths = toolchainPaths(workspaceRoot);
  const pythonVersion = await checkPython(args.python, pins.python.minimum);

  // --- Python tools -------------------------------------------------------
  const requirementFiles = [pins.python.requirements, ...(args.dev ? [pins.python.devRequirements] : [])];
  const contents = await Promise.all(requirementFiles.map((f) => readFile(helixFile(f), 'utf8')));
  // The stamp lists the Python version and the digest of each requirements
  // file installed; a plain run is satisfied by a dev install.
  const stampFile = join(paths.venv, 'helix-toolchain.stamp');
  const digests = contents.map((c) => sha256Hex(c));
  const stamp = (await exists(stampFile)) ? (await readFile(stampFile, 'utf8')).trim().split(' ') : [];
  const venvReused = stamp[0] === pythonVersion && digests.every((d) => stamp.includes(d));
  if (venvReused) {
    logger.info(`Python tools are up to date in ${paths.venv}`);
  } else {
    logger.info(`installing ${requirementFiles.join(' + ')} into ${paths.venv} (Python ${pythonVersion}, --require-hashes)`);
    await rm(paths.venv, { recursive: true, force: true });
    await mkdir(paths.root, { recursive: true });
    await runTool({ command: args.python, args: ['-m', 'venv', paths.venv], env: { PYTHONNOUSERSITE: '1' } });
    await runTool({
      command: paths.venvPython,
      args: [
        '-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--require-hashes',
        '--only-binary', ':all:', '--no-deps',
        ...requirementFiles.flatMap((f) => ['-r', helixFile(f)]),
      ],
      env: { PYTHONNOUSERSITE: '1' },
      streamOutput: true,
    });
    await runTool({ command: paths.venvPython, args: ['-m', 'pip', 'check', '--disable-pip-version-check'] });
    await writeFileAtomic(stampFile, `${[pythonVersion, ...digests].join(' ')}\n`);
  }
  return { python: { command: args.python, version: pythonVersion }, venv: paths.venv, venvReused };
}

/** Provisions (or confirms) the toolchain of `workspaceRoot`. */
export async function provisionToolchain(args: {
  workspaceRoot: string;
  python: string;
  dev: boolean;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
}): Promise<ToolchainReport> {
  const { workspaceRoot, logger } = args;
  const env = args.env ?? process.env;
  const pins = readPins(workspaceRoot);
  const paths = toolchainPaths(workspaceRoot);
  const pythonTools = await provisionPythonTools(args);

  // --- actionlint (dev only) ----------------------------------------------
  const actionlint = args.dev ? { actionlint: await provisionActionlint({ workspaceRoot, logger, env }) } : {};

  // --- syft ---------------------------------------------------------------
  const syft = await provisionGoTool(
    {
      name: 'syft',
      module: pins.syft.module,
      version: pins.syft.version,
      reports: pins.syft.version.replace(/^v/, ''),
      // A program that answers the pinned version is reused only when it is a build of the pinned module (its Go build information).
      versionOf: async (command) => {
        const version = await syftVersion(command);
        if (version !== pins.syft.version.replace(/^v/, '')) return version;
        const binary = await readCommandFile(command, env);
        const problem = binary ? syftBuildProblem(binary, pins) : 'its file cannot be read';
        return problem ? `${version}, but ${problem}` : version;
      },
      candidates: [paths.syftLocal, 'syft'],
      target: paths.syftLocal,
      // A plain `go install` build reports "[not provided]".
      ldflags: `-X main.version=${pins.syft.version}`,
      alternative: `or put syft ${pins.syft.version} on PATH`,
    },
    paths.root,
    pins.go.minimum,
    logger,
    env,
  );
  return { ...pythonTools, syft, ...actionlint };
}
