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
import { consoleLogger, loadConfig, ReleaseError, resolveUv, runTool, toolchainPaths } from '@helix-release/core';
import { provisionPythonTools, withToolchainLock } from '@helix-release/toolchain';
import type { AppGeneratorSchema } from './schema';

/** Where the app and its cases go, from release.config.ts (the defaults of `init` without one). */
async function layout(tree: Tree): Promise<{ appsRoot: string; pack: string; python: string }> {
  try {
    const config = await loadConfig(tree.root);
    return { appsRoot: config.apps.root, pack: config.conformance?.pack ?? 'conformance', python: config.python };
  } catch (err) {
    if (err instanceof ReleaseError && err.code === 'CONFIG_NOT_FOUND') return { appsRoot: 'apps', pack: 'conformance', python: 'python3' };
    throw err;
  }
}

/** `text` as an extended regular expression that matches just it (grep -E, as conformance.sh reads it). */
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** App names: lower-case letters and digits, single dashes between them (a valid PEP 508 name and a file name). */
const APP_NAME = /^[a-z](?:[a-z0-9]|-[a-z0-9])*$/;
/** Versions: PEP 440 public and local versions, in the characters our artifact names allow. */
const APP_VERSION = /^[0-9]+(?:\.[0-9]+)*(?:(?:a|b|rc)[0-9]+)?(?:\.post[0-9]+)?(?:\.dev[0-9]+)?(?:\+[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*)?$/;

/** The conformance cases of a new app: it reports its version, and its command works. */
function writeCases(tree: Tree, pack: string, name: string, version: string): string[] {
  const cases: Record<string, Record<string, string>> = {
    [`${name}-01-version`]: { args: '--version\n', 'expect-stdout': `^${escapeRegExp(name)} ${escapeRegExp(version)}$\n` },
    [`${name}-02-hello`]: { args: 'hello\nconformance\n', 'expect-stdout': '^hello, conformance$\n' },
    [`${name}-03-unknown-command-fails`]: { args: 'no-such-command\n', 'expect-exit': '2\n', 'expect-stderr': 'invalid choice\n' },
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

/** The generator. */
export default async function appGenerator(tree: Tree, options: AppGeneratorSchema): Promise<() => Promise<void>> {
  const name = options.name;
  if (!APP_NAME.test(name)) throw new Error(`app name ${JSON.stringify(name)}: use lower-case letters and digits with single dashes between them, starting with a letter`);
  const version = options.version ?? '0.1.0';
  if (!APP_VERSION.test(version)) throw new Error(`version ${JSON.stringify(version)}: use a PEP 440 version such as 1.0.0, 1.0.0rc1 or 1.0.0+local`);
  const { appsRoot, pack, python } = await layout(tree);
  const directory = posix.normalize(options.directory ?? posix.join(appsRoot, name));
  if (tree.exists(directory)) throw new Error(`${directory} exists already; pick another name or --directory`);
  const root = posix.normalize(appsRoot).replace(/\/$/, '');
  const found = root === '.' || directory.startsWith(`${root}/`);
  generateFiles(tree, join(__dirname, 'files'), directory, { name, module: name.replace(/-/g, '_'), version, directory, pack, tmpl: '' });
  const cases = writeCases(tree, pack, name, version);
  return async () => {
    if (options.lock !== false) await lockApp(tree.root, directory, python);
    const lines = [
      '',
      `Added ${name} in ${directory}, with its conformance cases in ${cases.map((c) => posix.basename(c)).join(', ')} (${pack}/cases).`,
      ...(found ? [] : [`WARNING: ${directory} is not below apps.root (${appsRoot}): the release will not find it; move it, or set apps.root in release.config.ts.`]),
      options.lock === false ? `Lock it before building: see ${directory}/README.md.` : `Locked with uv: ${directory}/uv.lock and ${directory}/requirements.txt (every package with --hash).`,
      'Next: commit it (the release takes its timestamps from git), then `npx nx run release:all`.',
      '',
    ];
    process.stdout.write(lines.join('\n'));
  };
}
