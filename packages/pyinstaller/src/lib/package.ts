/**
 * Stage `package`: builds an app with PyInstaller and zips the onedir bundle
 * reproducibly into `dist/release/<app>-<version>-<platform>.zip`.
 *
 * Reproducibility, learned the hard way:
 * - the build environment is a *relocatable* uv venv: pip writes the venv's
 *   absolute path into console-script shebangs, and those scripts' hashes end
 *   up in the RECORD files that copy_metadata puts in the bundle, so two
 *   checkouts in two folders gave different bytes;
 * - PYTHONHASHSEED=0, SOURCE_DATE_EPOCH, TZ=UTC, LC_ALL=C.UTF-8 and a private
 *   PyInstaller config/cache folder for the build;
 * - the zip normalises order, times and modes (umask 077 and 022 give the same
 *   zip).
 */
import { readdir, rm, stat, utimes } from 'node:fs/promises';
import { join, relative } from 'node:path';
import {
  collectFolderEntries,
  describeReleaseFile,
  installerArtifactName,
  platformTag,
  readAppMetadata,
  appEnv,
  helixFile,
  readPins,
  readStageRecord,
  relativeInside,
  resolveUv,
  runTool,
  toolchainPaths,
  writeReproducibleZip,
  writeStageRecord,
  type AppMetadata,
  type ReleaseArtifact,
  type StageContext,
} from '@helix-release/core';
import { PackageError } from './errors';
import { describeWheels, dropInstallerCacheFiles, wheelsOf } from './wheels';

/** Options of the package stage. */
export interface PackageOptions {
  /** The PyInstaller spec, relative to the project root. */
  spec: string;
  /** The locked requirements file, relative to the project root. Default `requirements.txt`. */
  requirements?: string;
}

/** What the stage built. */
export interface PackageResult {
  artifact: ReleaseArtifact;
  python: string;
  pyinstaller: string;
}

const isWindows = process.platform === 'win32';

/** The environment every build tool runs in: fixed seeds, clock, zone and locale. */
export function buildEnvironment(sourceDateEpoch: number, workDir: string): Record<string, string> {
  return {
    PYTHONHASHSEED: '0',
    SOURCE_DATE_EPOCH: String(sourceDateEpoch),
    TZ: 'UTC',
    LC_ALL: 'C.UTF-8',
    LANG: 'C.UTF-8',
    PYTHONNOUSERSITE: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    PYINSTALLER_CONFIG_DIR: join(workDir, 'pyinstaller-config'),
    UV_NO_CONFIG: '1',
    UV_PYTHON_DOWNLOADS: 'never',
  };
}

/**
 * The one onedir bundle PyInstaller wrote to `distPath`: its folder name (the
 * executable's name) and absolute path. Throws PYINSTALLER_OUTPUT, naming
 * `specFile`, when there is none, more than one, or a onefile executable.
 */
export async function findBundle(distPath: string, specFile: string): Promise<{ name: string; dir: string }> {
  const bundles = await readdir(distPath);
  if (bundles.length !== 1) {
    throw new PackageError('PYINSTALLER_OUTPUT', `expected one onedir bundle in ${distPath}, found ${bundles.length ? bundles.join(', ') : 'none'}; the spec must COLLECT exactly one app (onedir, not onefile)`, {
      file: specFile,
    });
  }
  const dir = join(distPath, bundles[0]!);
  if (!(await stat(dir)).isDirectory()) {
    throw new PackageError('PYINSTALLER_OUTPUT', 'the spec built a onefile executable; helix-release ships onedir bundles (use COLLECT)', { file: specFile });
  }
  return { name: bundles[0]!, dir };
}

/**
 * The smoke test's verdict: the built `<bundleName> --version` must print
 * exactly `<name> <version>` of the app's pyproject.toml. Throws
 * PYINSTALLER_SMOKE, naming `pyprojectFile`, otherwise.
 */
export function checkSmokeOutput(stdout: string, meta: Pick<AppMetadata, 'name' | 'version'>, bundleName: string, pyprojectFile: string): void {
  const expected = `${meta.name} ${meta.version}`;
  if (stdout.trim() !== expected) {
    throw new PackageError('PYINSTALLER_SMOKE', `the built ${bundleName} --version printed ${JSON.stringify(stdout.trim())}, expected ${JSON.stringify(expected)}; keep the app's version in step with pyproject.toml`, {
      file: pyprojectFile,
    });
  }
}

/** Folders of an app that hold no source PyInstaller bundles (tests, builds, environments, caches). */
const NOT_SOURCE = new Set(['__pycache__', 'node_modules', 'build', 'dist', 'tests', 'test']);

/** The app's Python sources: every `*.py` below `root` but in hidden folders, {@link NOT_SOURCE} and virtual environments. */
export async function appSources(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    if (entries.some((e) => e.name === 'pyvenv.cfg')) return;
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.isDirectory() && !e.name.startsWith('.') && !NOT_SOURCE.has(e.name)) await walk(join(dir, e.name));
      else if (e.isFile() && e.name.endsWith('.py')) out.push(join(dir, e.name));
    }
  };
  await walk(root);
  return out;
}

/**
 * Compiles each file with `python` (in memory: no __pycache__ is written) and
 * stops at the first that does not compile, naming it with line and column.
 * PyInstaller itself only warns about such a module and leaves it out, so
 * the built app failed its smoke test with a ModuleNotFoundError.
 */
const COMPILE_CHECK = [
  'import json, sys',
  'for path in sys.argv[1:]:',
  '    try:',
  "        with open(path, 'rb') as f:",
  "            compile(f.read(), path, 'exec', dont_inherit=True)",
  '    except (SyntaxError, ValueError) as e:',
  "        print(json.dumps({'file': path, 'line': getattr(e, 'lineno', None), 'column': getattr(e, 'offset', None), 'message': getattr(e, 'msg', None) or str(e)}))",
  '        sys.exit(3)',
].join('\n');

/** APP_SOURCE_INVALID naming the first of `files` that `python` cannot compile. */
export async function checkAppSources(python: string, workspaceRoot: string, files: readonly string[], env: Record<string, string>): Promise<void> {
  if (!files.length) return;
  const r = await runTool({ command: python, args: ['-c', COMPILE_CHECK, ...files], env, okExitCodes: [0, 3] });
  if (r.exitCode === 0) return;
  let bad: { file: string; line: number | null; column: number | null; message: string } | undefined;
  try {
    bad = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as typeof bad;
  } catch {
    bad = undefined;
  }
  if (!bad) throw new PackageError('APP_SOURCE_INVALID', `${python} could not check the app's sources (exit ${r.exitCode}): ${r.stderr.trim().slice(-500)}`, { file: files[0] });
  // `file` is `path:line:column` (relative to the workspace), as editors take it.
  const where = [relative(workspaceRoot, bad.file), bad.line, bad.column].filter((x) => x !== null && x !== undefined).join(':');
  throw new PackageError('APP_SOURCE_INVALID', `${bad.message}; the app's source does not compile (PyInstaller would leave the module out and the built app fail to import it): fix it and run the release again`, { file: where });
}

/** Runs the stage. */
export async function packageStage(ctx: StageContext, options: PackageOptions): Promise<PackageResult> {
  const meta = readAppMetadata(ctx.workspaceRoot, relativeInside(ctx.workspaceRoot, ctx.projectRoot, 'app folder'));
  const platform = platformTag();
  const artifactName = installerArtifactName(meta, platform);
  const artifactPath = join(ctx.releaseDir, artifactName);
  // A failed build must not leave the previous zip looking current (the
  // adapter has removed the record and the evidence already).
  await rm(artifactPath, { force: true });

  // The lock stage must have passed for exactly these lockfiles.
  await readStageRecord(ctx.workspaceRoot, ctx.project, 'lock');
  const sde = ctx.sourceDateEpoch.seconds;
  const env = buildEnvironment(sde, ctx.workDir);
  const uv = await resolveUv(ctx.workspaceRoot);
  const pins = readPins(ctx.workspaceRoot);
  await rm(ctx.workDir, { recursive: true, force: true });
  const venv = join(ctx.workDir, 'venv');
  const python = join(venv, isWindows ? 'Scripts/python.exe' : 'bin/python');

  ctx.logger.info(`creating a clean build environment with ${ctx.config.python}`);
  await runTool({
    command: uv,
    args: ['venv', '--relocatable', '--no-project', '--python', ctx.config.python, '--python-preference', 'only-system', venv],
    env,
  });
  // Before anything is fetched or built: a module that does not compile would be left out of the bundle.
  await checkAppSources(python, ctx.workspaceRoot, await appSources(ctx.projectRoot), env);
  // The exact wheels are fetched first (pip checks every hash), then
  // installed offline from that folder: the record names the one file per
  // package that went into the bundle, with its sha256, for provenance.
  const appRequirements = join(ctx.projectRoot, options.requirements ?? 'requirements.txt');
  const toolRequirements = helixFile(pins.python.requirements);
  const wheelhouse = join(ctx.workDir, 'wheels');
  ctx.logger.info('fetching the locked wheels (--require-hashes, wheels only)');
  await runTool({
    command: toolchainPaths(ctx.workspaceRoot).venvPython,
    args: ['-m', 'pip', 'download', '--disable-pip-version-check', '--no-input', '--require-hashes', '--only-binary', ':all:', '--no-deps', '-d', wheelhouse, '-r', appRequirements, '-r', toolRequirements],
    env,
  });
  const wheels = await describeWheels(wheelhouse);
  // uv records a local archive's mtime in <dist-info>/uv_cache.json (listed
  // in RECORD, so it ends up in the bundle): pin it to SOURCE_DATE_EPOCH.
  await Promise.all(wheels.map((w) => utimes(join(wheelhouse, w.file), sde, sde)));
  const appWheels = await wheelsOf(appRequirements, wheels);
  ctx.logger.info('installing them into the clean environment');
  await runTool({
    command: uv,
    args: ['pip', 'install', '--python', python, '--offline', '--no-index', '--find-links', wheelhouse, '--require-hashes', '--no-deps', '--no-cache', '--link-mode', 'copy', '-r', appRequirements, '-r', toolRequirements],
    env,
  });
  await runTool({ command: uv, args: ['pip', 'check', '--python', python], env });
  const sitePackages = (await runTool({ command: python, args: ['-c', "import sysconfig; print(sysconfig.get_paths()['purelib'])"], env })).stdout.trim();
  await dropInstallerCacheFiles(sitePackages);
  const pythonVersion = (await runTool({ command: python, args: ['-c', 'import platform; print(platform.python_version())'], env })).stdout.trim();
  const pyinstallerVersion = (await runTool({ command: python, args: ['-m', 'PyInstaller', '--version'], env })).stdout.trim();

  const distPath = join(ctx.workDir, 'pyi-dist');
  ctx.logger.info(`PyInstaller ${pyinstallerVersion} on Python ${pythonVersion}: ${options.spec} (SOURCE_DATE_EPOCH=${sde})`);
  await runTool({
    command: python,
    args: ['-m', 'PyInstaller', '--clean', '--noconfirm', '--log-level', 'WARN', '--distpath', distPath, '--workpath', join(ctx.workDir, 'pyi-build'), join(ctx.projectRoot, options.spec)],
    cwd: ctx.projectRoot,
    env,
  });

  const bundle = await findBundle(distPath, join(ctx.projectRoot, options.spec));
  const executable = join(bundle.dir, `${bundle.name}${isWindows ? '.exe' : ''}`);
  // The app's own runtime settings (apps.env, apps.settings[app].env), as it runs once installed.
  const smoke = await runTool({ command: executable, args: ['--version'], env: { ...appEnv(ctx.config, meta.name), ...env } });
  checkSmokeOutput(smoke.stdout, meta, bundle.name, join(ctx.projectRoot, 'pyproject.toml'));

  const prefix = artifactName.replace(/\.zip$/, '');
  const entries = await collectFolderEntries(bundle.dir, { prefix: `${prefix}/`, symlinks: 'keep' });
  await writeReproducibleZip(artifactPath, entries, sde);
  const artifact = await describeReleaseFile(ctx.releaseDir, artifactName, 'installer', { sbom: true, name: meta.name, version: meta.version, platform });
  await writeStageRecord(ctx.workspaceRoot, {
    stage: 'package',
    project: ctx.project,
    artifacts: [artifact],
    data: { python: pythonVersion, pyinstaller: pyinstallerVersion, wheels: appWheels, executable: `${prefix}/${bundle.name}${isWindows ? '.exe' : ''}`, entries: entries.length },
  });
  ctx.logger.info(`${artifactName}: ${entries.length} files, ${artifact.size} bytes, sha256 ${artifact.sha256}`);
  return { artifact, python: pythonVersion, pyinstaller: pyinstallerVersion };
}
