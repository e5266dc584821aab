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
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ReleaseError,
  exists,
  readPins,
  runTool,
  sha256Hex,
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

/**
 * Builds actionlint at the pinned version into `.helix/toolchain/bin`
 * (idempotent: an existing binary reporting the pin is kept). Needs Go.
 */
export async function provisionActionlint(args: { workspaceRoot: string; logger: Logger; env?: NodeJS.ProcessEnv }): Promise<{ command: string; version: string; built: boolean }> {
  const env = args.env ?? process.env;
  const pins = readPins(args.workspaceRoot);
  const paths = toolchainPaths(args.workspaceRoot);
  if (!pins.actionlint) {
    throw new ReleaseError('CONFIG_INVALID', 'tools/toolchain/pins.json has no "actionlint" pin; restore it from git', { file: 'tools/toolchain/pins.json' });
  }
  const wanted = `v${pins.actionlint.version.replace(/^v/, '')}`;
  const found = (await exists(paths.actionlint)) ? await actionlintVersion(paths.actionlint) : undefined;
  if (found === wanted) {
    args.logger.info(`actionlint ${found} found at ${paths.actionlint}`);
    return { command: paths.actionlint, version: found, built: false };
  }
  if (found !== undefined) args.logger.info(`replacing ${paths.actionlint}: it is actionlint ${found}, the pin is ${wanted}`);
  const goHint = `Go ${pins.go.minimum}+ is needed to build actionlint ${wanted} for --dev (Debian: apt-get install golang-go, or from go.dev)`;
  const goVersion = await runTool({ command: env['GO'] ?? 'go', args: ['env', 'GOVERSION'], installHint: goHint });
  if (!versionAtLeast(goVersion.stdout.trim().replace(/^go/, ''), pins.go.minimum)) {
    throw new ReleaseError('TOOL_NOT_FOUND', `found ${goVersion.stdout.trim()}; ${goHint}`, { file: 'go' });
  }
  args.logger.info(`building actionlint ${wanted} with ${goVersion.stdout.trim()} (go install)`);
  await mkdir(join(paths.root, 'bin'), { recursive: true });
  await runTool({
    command: env['GO'] ?? 'go',
    args: ['install', '-trimpath', `${pins.actionlint.module}@${wanted}`],
    env: { GOBIN: join(paths.root, 'bin'), CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
    streamOutput: true,
    timeoutMs: 30 * 60_000,
  });
  const built = await actionlintVersion(paths.actionlint);
  if (built !== wanted) {
    throw new ReleaseError('TOOL_FAILED', `the actionlint just built reports version ${built ?? '(none)'}, expected ${wanted}`, { file: paths.actionlint });
  }
  args.logger.info(`actionlint ${built} built at ${paths.actionlint}`);
  return { command: paths.actionlint, version: built, built: true };
}

/**
 * Runs `fn` holding an exclusive lock on the toolchain folder (a lock
 * directory, created atomically), so that two provisioning runs at once (two
 * test projects, two terminals) never build into the same venv together. A
 * lock older than `staleMs` is taken over (a crashed run).
 */
export async function withToolchainLock<T>(root: string, logger: Logger, fn: () => Promise<T>, staleMs = 30 * 60_000): Promise<T> {
  // Inside the toolchain folder, so a test workspace that links it shares the lock.
  const lock = join(root, '.lock');
  await mkdir(root, { recursive: true });
  let waited = false;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > staleMs) {
        logger.warn(`taking over a stale toolchain lock (${Math.round(age / 60_000)} min old): ${lock}`);
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      if (!waited) logger.info(`another run is provisioning the toolchain; waiting for ${lock}`);
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
  const pythonVersion = await checkPython(args.python, pins.python.minimum);

  // --- Python tools -------------------------------------------------------
  const requirementFiles = [pins.python.requirements, ...(args.dev ? [pins.python.devRequirements] : [])];
  const contents = await Promise.all(requirementFiles.map((f) => readFile(join(workspaceRoot, f), 'utf8')));
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
        ...requirementFiles.flatMap((f) => ['-r', join(workspaceRoot, f)]),
      ],
      env: { PYTHONNOUSERSITE: '1' },
      streamOutput: true,
    });
    await runTool({ command: paths.venvPython, args: ['-m', 'pip', 'check', '--disable-pip-version-check'] });
    await writeFileAtomic(stampFile, `${[pythonVersion, ...digests].join(' ')}\n`);
  }

  // --- actionlint (dev only) ----------------------------------------------
  const actionlint = args.dev ? { actionlint: await provisionActionlint({ workspaceRoot, logger, env }) } : {};

  // --- syft ---------------------------------------------------------------
  const wantedSyft = pins.syft.version.replace(/^v/, '');
  for (const candidate of [paths.syftLocal, 'syft']) {
    if (candidate.includes('/') && !(await exists(candidate))) continue;
    const version = await syftVersion(candidate);
    if (version === wantedSyft) {
      logger.info(`syft ${version} found at ${candidate}`);
      return { python: { command: args.python, version: pythonVersion }, venv: paths.venv, venvReused, syft: { command: candidate, version, built: false }, ...actionlint };
    }
    if (version !== undefined) logger.info(`ignoring ${candidate}: it is syft ${version}, the pin is ${pins.syft.version}`);
  }
  const goHint = `Go ${pins.go.minimum}+ is needed to build syft ${pins.syft.version} (Debian: apt-get install golang-go, or from go.dev), or put syft ${pins.syft.version} on PATH`;
  const goVersion = await runTool({ command: env['GO'] ?? 'go', args: ['env', 'GOVERSION'], installHint: goHint });
  if (!versionAtLeast(goVersion.stdout.trim().replace(/^go/, ''), pins.go.minimum)) {
    throw new ReleaseError('TOOL_NOT_FOUND', `found ${goVersion.stdout.trim()}; ${goHint}`, { file: 'go' });
  }
  logger.info(`building syft ${pins.syft.version} with ${goVersion.stdout.trim()} (go install; a few minutes the first time)`);
  await mkdir(join(paths.root, 'bin'), { recursive: true });
  await runTool({
    command: env['GO'] ?? 'go',
    args: ['install', '-trimpath', '-ldflags', `-X main.version=${pins.syft.version}`, `${pins.syft.module}@${pins.syft.version}`],
    env: { GOBIN: join(paths.root, 'bin'), CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
    streamOutput: true,
    timeoutMs: 30 * 60_000,
  });
  const built = await syftVersion(paths.syftLocal);
  if (built !== wantedSyft) {
    throw new ReleaseError('TOOL_FAILED', `the syft just built reports version ${built ?? '(none)'}, expected ${wantedSyft}`, { file: paths.syftLocal });
  }
  logger.info(`syft ${built} built at ${paths.syftLocal}`);
  return { python: { command: args.python, version: pythonVersion }, venv: paths.venv, venvReused, syft: { command: paths.syftLocal, version: built, built: true }, ...actionlint };
}
