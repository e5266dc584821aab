/**
 * helix-release's own files that stages read at run time: the toolchain pins
 * (tools/toolchain/), the verification kit the release ships (tools/*.py,
 * tools/conformance.sh) and the Nx runtime-input scripts (tools/nx/).
 *
 * They are named by their path in this repository (`tools/…`). Run from this
 * repository they are read there; an installed @helix-release/core carries
 * them under `assets/` (the pack script copies them). Either way they are
 * found from this package's own location, never from the workspace being
 * released: a user's workspace that happens to hold a `tools/conformance.sh`
 * does not replace ours.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, posix, relative, resolve, sep } from 'node:path';

/** The folder of @helix-release/core (its package.json), source tree or installed. */
const CORE_ROOT = resolve(__dirname, '..');

/** Where the assets of a packed @helix-release/core live. */
export const PACKED_ASSETS_DIR = 'assets';

/** The folder the asset paths are relative to: core's `assets/` when installed, the repository root in the source tree. */
export function helixAssetRoot(): string {
  const packed = join(CORE_ROOT, PACKED_ASSETS_DIR);
  return existsSync(packed) ? packed : resolve(CORE_ROOT, '..', '..');
}

/** The absolute path of one of helix-release's own files, e.g. `tools/toolchain/pins.json`. */
export function helixFile(rel: string): string {
  return join(helixAssetRoot(), rel);
}

/**
 * `file` relative to `workspaceRoot` with `/` separators when it lies inside
 * the workspace (node_modules included), else its absolute path: the form
 * of a path that is the same in every clone of the workspace.
 */
export function workspaceRelative(workspaceRoot: string, file: string): string {
  const rel = relative(resolve(workspaceRoot), resolve(file)).split(sep).join('/');
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? resolve(file) : rel;
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * The folder (workspace-relative) of the npm workspace package named `pkg`,
 * from the root package.json's `workspaces`; undefined when the workspace
 * has no such package (it installs it from a tarball or a registry).
 */
export function workspacePackageDir(workspaceRoot: string, pkg: string): string | undefined {
  const globs = readJson(join(workspaceRoot, 'package.json'))?.['workspaces'];
  const patterns = Array.isArray(globs) ? globs : Array.isArray((globs as { packages?: unknown } | undefined)?.packages) ? (globs as { packages: unknown[] }).packages : [];
  for (const pattern of patterns) {
    if (typeof pattern !== 'string') continue;
    const clean = pattern.replace(/^\.\//, '').replace(/\/$/, '');
    let dirs = [clean];
    if (clean.endsWith('/*')) {
      const parent = clean.slice(0, -2);
      try {
        dirs = readdirSync(join(workspaceRoot, parent), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `${parent}/${d.name}`);
      } catch {
        dirs = [];
      }
    }
    for (const dir of dirs.sort()) if (readJson(join(workspaceRoot, dir, 'package.json'))?.['name'] === pkg) return dir;
  }
  return undefined;
}

/**
 * Where helix-release's own sources are inside `workspaceRoot`: the folder
 * (workspace-relative, `.` here) that holds packages/core and tools/, when
 * the workspace is this repository or a copy of it; undefined in a workspace
 * that installs our packages. Sources found here key the Nx cache and the
 * artifacts' clocks; installed ones are covered by the workspace's lockfile,
 * which Nx hashes with every executor's package.
 */
export function helixSourceRoot(workspaceRoot: string): string | undefined {
  const core = workspacePackageDir(workspaceRoot, '@helix-release/core');
  return core === undefined ? undefined : posix.normalize(posix.join(core, '..', '..'));
}

/** `rel` (one of our files, `tools/…`) as a workspace-relative path when our sources are in the workspace. */
export function helixSourcePath(workspaceRoot: string, rel: string): string | undefined {
  const root = helixSourceRoot(workspaceRoot);
  return root === undefined ? undefined : posix.normalize(posix.join(root, rel));
}

/** The command line of one of our Nx runtime-input scripts (`tools/nx/<name>`), the same in every clone. */
export function helixScriptCommand(workspaceRoot: string, name: string, args: readonly string[] = []): string {
  const rel = `tools/nx/${name}`;
  const script = helixSourcePath(workspaceRoot, rel) ?? workspaceRelative(workspaceRoot, helixFile(rel));
  // Quoted only when the shell would need it, so that this repository's commands stay `node tools/nx/…`.
  return ['node', /^[\w./@+-]+$/.test(script) ? script : JSON.stringify(script), ...args.map((a) => JSON.stringify(a))].join(' ');
}
