/**
 * `npx nx g @helix-release/nx-plugin:app <name>`: a minimal, real Python
 * command-line app the release builds with no edits: pyproject.toml, a
 * package with `--version` and one command, PyInstaller's entry script, a
 * spec from our template, conformance cases of its own in the release's
 * pack, and (after the files are written) uv.lock and a requirements.txt
 * with a hash for every package, made by the toolchain's uv.
 */
import { join, posix } from 'node:path';
import { generateFiles, type Tree } from '@nx/devkit';
import { parse as parseToml } from 'smol-toml';
import { consoleLogger, loadConfig, ReleaseError, resolveUv, runTool, toolchainPaths } from '@helix-release/core';
import { provisionPythonTools, withToolchainLock } from '@helix-release/toolchain';
import { escapeRegExp } from '../../lib/preflight';
import type { AppGeneratorSchema } from './schema';

/** Where the app and its cases go, from release.config.ts (the defaults of `init` without one). */
async function layout(tree: Tree): Promise<{ appsRoot: string; pack: string; python: string; packConfigured: boolean }> {
  try {
    const config = await loadConfig(tree.root);
    return { appsRoot: config.apps.root, pack: config.conformance?.pack ?? 'conformance', python: config.python, packConfigured: config.conformance !== undefined };
  } catch (err) {
    if (err instanceof ReleaseError && err.code === 'CONFIG_NOT_FOUND') return { appsRoot: 'apps', pack: 'conformance', python: 'python3', packConfigured: true }; // init's defaults
    throw err;
  }
}

/** App names: lower-case letters and digits, single dashes between them (a valid PEP 508 name and a file name). */
const APP_NAME = /^[a-z](?:[a-z0-9]|-[a-z0-9])*$/;
/** Versions: PEP 440 public and local versions, in the characters our artifact names allow. */
const APP_VERSION = /^[0-9]+(?:\.[0-9]+)*(?:(?:a|b|rc)[0-9]+)?(?:\.post[0-9]+)?(?:\.dev[0-9]+)?(?:\+[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*)?$/;

/**
 * The conformance cases of an app: it reports its version; a new app's
 * command works and a wrong one fails (an adopted app gets the version case
 * only: its commands are its own to test).
 */
function writeCases(tree: Tree, pack: string, name: string, version: string, adopted: boolean): string[] {
  const cases: Record<string, Record<string, string>> = {
    [`${name}-01-version`]: { args: '--version\n', 'expect-stdout': `^${escapeRegExp(name)} ${escapeRegExp(version)}$\n` },
    ...(adopted
      ? {}
      : {
          [`${name}-02-hello`]: { args: 'hello\nconformance\n', 'expect-stdout': '^hello, conformance$\n' },
          [`${name}-03-unknown-command-fails`]: { args: 'no-such-command\n', 'expect-exit': '2\n', 'expect-stderr': 'invalid choice\n' },
        }),
  };
  const written: string[] = [];
  for (const [dir, files] of Object.entries(cases)) {
    const base = posix.join(pack, 'cases', dir);
    if (tree.exists(base)) throw new Error(`${base} exists already; remove it or pick another app name`);
    tree.write(posix.join(base, 'app'), `${name}\n`);
    for (const [file, content] of Object.entries(files)) tree.write(posix.join(base, file), content);
    written.push(base);
  }
  return written;
}

/** uv.lock and requirements.txt of the app at `dir`, with the toolchain's uv. */
export async function lockApp(workspaceRoot: string, dir: string, python: string): Promise<void> {
  const logger = consoleLogger('helix-release:app');
  await withToolchainLock(toolchainPaths(workspaceRoot).root, logger, () => provisionPythonTools({ workspaceRoot, python, dev: false, logger }));
  const uv = await resolveUv(workspaceRoot);
  const cwd = join(workspaceRoot, dir);
  await runTool({ command: uv, args: ['lock', '--python', python, '--no-progress'], cwd });
  await runTool({ command: uv, args: ['export', '--format', 'requirements-txt', '--no-emit-project', '--hashes', '--frozen', '--no-progress', '-o', 'requirements.txt'], cwd });
}

/** What `--from` takes from an existing app's pyproject.toml. */
interface ExistingApp {
  version: string;
  entryModule: string;
  entryFunction: string;
}

/** Reads the existing app at `dir`: its name must be `name`, and `[project.scripts]` must name its entry point. */
function readExisting(tree: Tree, dir: string, name: string): ExistingApp {
  const file = posix.join(dir, 'pyproject.toml');
  const text = tree.read(file, 'utf-8');
  if (text === null) throw new Error(`--from ${dir}: there is no ${file}; an app needs [project] name and version`);
  let project: { name?: unknown; version?: unknown; scripts?: Record<string, unknown> } | undefined;
  try {
    project = (parseToml(text) as { project?: typeof project }).project;
  } catch (cause) {
    throw new Error(`${file}: not valid TOML: ${(cause as Error).message}`);
  }
  if (project?.name !== name) throw new Error(`${file}: [project] name is ${JSON.stringify(project?.name)}, not ${JSON.stringify(name)}; pass its name`);
  if (typeof project.version !== 'string' || !APP_VERSION.test(project.version)) throw new Error(`${file}: [project] needs a static version such as "1.0.0" (the installer is named after it)`);
  const script = project.scripts?.[name];
  const entry = typeof script === 'string' ? /^([A-Za-z_][\w.]*):([A-Za-z_]\w*)$/.exec(script.trim()) : null;
  if (!entry) throw new Error(`${file}: [project.scripts] needs ${name} = "<module>:<function>", the entry point the installer runs`);
  return { version: project.version, entryModule: entry[1]!, entryFunction: entry[2]! };
}

/** The generator. */
export default async function appGenerator(tree: Tree, options: AppGeneratorSchema): Promise<() => Promise<void>> {
  const name = options.name;
  if (!APP_NAME.test(name)) throw new Error(`app name ${JSON.stringify(name)}: use lower-case letters and digits with single dashes between them, starting with a letter`);
  const { appsRoot, pack, python, packConfigured } = await layout(tree);
  const existing = options.from !== undefined ? readExisting(tree, posix.normalize(options.from), name) : undefined;
  const version = existing?.version ?? options.version ?? '0.1.0';
  if (!APP_VERSION.test(version)) throw new Error(`version ${JSON.stringify(version)}: use a PEP 440 version such as 1.0.0, 1.0.0rc1 or 1.0.0+local`);
  const directory = posix.normalize(options.from ?? options.directory ?? posix.join(appsRoot, name));
  if (!existing && tree.exists(directory)) throw new Error(`${directory} exists already; pick another name or --directory, or adopt it with --from ${directory}`);
  const root = posix.normalize(appsRoot).replace(/\/$/, '');
  const found = root === '.' || directory.startsWith(`${root}/`);
  const module = name.replace(/-/g, '_');
  const vars = {
    name,
    module,
    version,
    directory,
    pack,
    entryModule: existing?.entryModule ?? `${module}.cli`,
    entryFunction: existing?.entryFunction ?? 'main',
    pathex: existing && !tree.exists(posix.join(directory, 'src')) ? 'HERE' : 'os.path.join(HERE, "src")',
    tmpl: '',
  };
  const added: string[] = [];
  if (existing) {
    // Only what the app lacks: its own files stay as they are.
    const hasSpec = tree.children(directory).some((f) => f.endsWith('.spec'));
    const wanted = [...(hasSpec ? [] : [`${name}.spec`]), 'packaging/entry.py'].filter((f) => !tree.exists(posix.join(directory, f)));
    const scratch = '.helix-app-template';
    generateFiles(tree, join(__dirname, 'files'), scratch, vars);
    for (const f of wanted) {
      tree.write(posix.join(directory, f), tree.read(posix.join(scratch, f))!);
      added.push(f);
    }
    tree.delete(scratch);
  } else {
    generateFiles(tree, join(__dirname, 'files'), directory, vars);
  }
  const cases = writeCases(tree, pack, name, version, existing !== undefined);
  return async () => {
    if (options.lock !== false) await lockApp(tree.root, directory, python);
    const lines = [
      '',
      existing
        ? `Adopted ${name} in ${directory}${added.length ? `, adding ${added.join(', ')}` : ''}, with its conformance cases in ${cases.map((c) => posix.basename(c)).join(', ')} (${pack}/cases).`
        : `Added ${name} in ${directory}, with its conformance cases in ${cases.map((c) => posix.basename(c)).join(', ')} (${pack}/cases).`,
      ...(found ? [] : [`WARNING: ${directory} is not below apps.root (${appsRoot}): the release will not find it; move it, or set apps.root in release.config.ts.`]),
      ...(packConfigured ? [] : [`WARNING: release.config.ts names no conformance.pack: set conformance: { pack: '${pack}' } so that these cases run (a release without conformance results is refused).`]),
      options.lock === false ? `Lock it before building: see ${directory}/README.md.` : `Locked with uv: ${directory}/uv.lock and ${directory}/requirements.txt (every package with --hash).`,
      ...(existing ? [`The release runs \`${name} --version\` and expects "${name} ${version}": make sure it prints that.`] : []),
      'Next: commit it (the release takes its timestamps from git), then `npx nx run release:all`.',
      '',
    ];
    process.stdout.write(lines.join('\n'));
  };
}
