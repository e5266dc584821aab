/**
 * Facts about the build host that a rebuilder must match: the OS
 * (`/etc/os-release`) and the Python interpreter a command resolves to. The
 * package stage records them, the SBOM stage names the OS's packages by them
 * and `helix-release reproduce` compares them with what a release recorded;
 * one reading here keeps the three from disagreeing.
 */
import { readFile } from 'node:fs/promises';
import { runTool } from './tool';

/** The host OS as `/etc/os-release` names it (`unknown` for a missing key). */
export interface OsRelease {
  /** `ID`, e.g. `debian`; on a host without os-release (macOS, Windows) the Node platform name. */
  id: string;
  /** `VERSION_ID`, e.g. `12`. */
  version: string;
}

/** `ID` and `VERSION_ID` of an os-release file's text (quoted or not). */
export function parseOsRelease(text: string): OsRelease {
  const get = (key: string) => new RegExp(`^${key}=(["']?)([^"'\\n]*)\\1\\s*$`, 'm').exec(text)?.[2];
  return { id: get('ID') || 'unknown', version: get('VERSION_ID') || 'unknown' };
}

/**
 * This host's OS: `/etc/os-release`, else `/usr/lib/os-release` (the
 * os-release(5) fallback); on a platform without it, the platform's name.
 */
export async function readOsRelease(platform: NodeJS.Platform = process.platform): Promise<OsRelease> {
  if (platform !== 'linux') return { id: platform, version: 'unknown' };
  for (const file of ['/etc/os-release', '/usr/lib/os-release']) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined) return parseOsRelease(text);
  }
  return { id: 'unknown', version: 'unknown' };
}

/** The base interpreter behind a `python` command. */
export interface InterpreterFacts {
  /** `platform.python_version()`, e.g. `3.11.2`. */
  version: string;
  /** `sys.base_prefix`, resolved: where the interpreter's own stdlib lives. */
  basePrefix: string;
  /** The base interpreter's executable, resolved (a venv's python resolves to it). */
  executable: string;
  /** The shared libpython it loads, resolved, or `''` for a static interpreter. */
  libpython: string;
}

/** Python that prints {@link InterpreterFacts} as JSON. */
export const INTERPRETER_PROBE = [
  'import json, os, platform, sys, sysconfig',
  "base = os.path.realpath(getattr(sys, '_base_executable', None) or sys.executable)",
  "libdir = sysconfig.get_config_var('LIBDIR') or ''",
  "soname = sysconfig.get_config_var('INSTSONAME') or sysconfig.get_config_var('LDLIBRARY') or ''",
  "lib = os.path.realpath(os.path.join(libdir, soname)) if libdir and soname else ''",
  "ok = lib and os.path.isfile(lib) and lib.split(os.sep)[-1].startswith('libpython') and '.so' in lib",
  "print(json.dumps({'version': platform.python_version(), 'basePrefix': os.path.realpath(sys.base_prefix), 'executable': base, 'libpython': lib if ok else ''}))",
].join('\n');

/** Runs {@link INTERPRETER_PROBE} with `python` (a command or a path). Throws what runTool throws when it cannot run. */
export async function probeInterpreter(python: string, env: Record<string, string | undefined>): Promise<InterpreterFacts> {
  const out = (await runTool({ command: python, args: ['-c', INTERPRETER_PROBE], env })).stdout;
  const facts = JSON.parse(out) as Partial<InterpreterFacts>;
  for (const key of ['version', 'basePrefix', 'executable', 'libpython'] as const) {
    if (typeof facts[key] !== 'string') throw new Error(`${python} printed no ${key} for the interpreter probe (${out.length} bytes of output)`);
  }
  return facts as InterpreterFacts;
}
