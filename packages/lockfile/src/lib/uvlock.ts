/**
 * Reads uv.lock and finds where pyproject.toml and uv.lock disagree.
 */
import { parse as parseToml } from 'smol-toml';
import { LockError } from './errors';
import { normaliseName } from './requirements';

/** A package locked in uv.lock. */
export interface UvLockedPackage {
  name: string;
  version: string;
  /** sha256 digests of its sdist and wheels. */
  hashes: string[];
  /** 1-based line of its `name =` in uv.lock. */
  line: number;
}

/** What uv.lock says about the project itself and its dependencies. */
export interface UvLock {
  requiresPython: string | undefined;
  /** The project's own `requires-dist`, as `name specifier` strings, normalised. */
  projectRequires: string[] | undefined;
  packages: UvLockedPackage[];
}

interface RawPackage {
  name?: string;
  version?: string;
  source?: Record<string, string>;
  sdist?: { hash?: string };
  wheels?: { hash?: string }[];
  metadata?: { 'requires-dist'?: { name: string; specifier?: string; marker?: string; extras?: string[] }[] };
}

function digest(hash: string | undefined): string[] {
  const m = hash ? /^sha256:([0-9a-f]{64})$/.exec(hash) : null;
  return m ? [m[1]!] : [];
}

/** Parses uv.lock text. `projectName` picks the project's own entry. */
export function parseUvLock(text: string, file: string, projectName: string): UvLock {
  let data: { 'requires-python'?: string; package?: RawPackage[] };
  try {
    data = parseToml(text) as typeof data;
  } catch (cause) {
    throw new LockError('LOCK_SYNTAX', `not valid TOML: ${(cause as Error).message}; run \`uv lock\``, { file, cause });
  }
  const nameLines = new Map<string, number>();
  text.split('\n').forEach((line, i) => {
    const m = /^name = "([^"]+)"/.exec(line);
    if (m && !nameLines.has(normaliseName(m[1]!))) nameLines.set(normaliseName(m[1]!), i + 1);
  });
  const packages: UvLockedPackage[] = [];
  let projectRequires: string[] | undefined;
  for (const pkg of data.package ?? []) {
    if (!pkg.name || !pkg.version) continue;
    const name = normaliseName(pkg.name);
    const local = pkg.source && ('virtual' in pkg.source || 'editable' in pkg.source || 'directory' in pkg.source);
    if (local) {
      if (name === normaliseName(projectName)) {
        projectRequires = (pkg.metadata?.['requires-dist'] ?? []).map((r) => requirementKey(r.name, r.specifier ?? '', r.marker ?? ''));
      }
      continue;
    }
    packages.push({
      name,
      version: pkg.version,
      hashes: [...new Set([...digest(pkg.sdist?.hash), ...(pkg.wheels ?? []).flatMap((w) => digest(w.hash))])].sort(),
      line: nameLines.get(name) ?? 1,
    });
  }
  return { requiresPython: data['requires-python'], projectRequires, packages };
}

/** A comparable form of one requirement: normalised name, specifier and marker without spaces. */
export function requirementKey(name: string, specifier: string, marker: string): string {
  const strip = (s: string) => s.replace(/\s+/g, '').replace(/'/g, '"');
  return `${normaliseName(name)}${strip(specifier)}${marker ? `;${strip(marker)}` : ''}`;
}

/** The `[project].dependencies` of pyproject.toml with the line of each entry. */
export function readPyprojectDependencies(text: string, file: string): { name: string; requires: { key: string; text: string; line: number }[]; requiresPython: string | undefined; headerLine: number } {
  let data: { project?: { name?: string; dependencies?: string[]; 'requires-python'?: string } };
  try {
    data = parseToml(text) as typeof data;
  } catch (cause) {
    throw new LockError('LOCK_SYNTAX', `not valid TOML: ${(cause as Error).message}`, { file, cause });
  }
  const project = data.project;
  if (!project?.name) throw new LockError('LOCK_SYNTAX', '[project] needs a name', { file });
  const lines = text.split('\n');
  const headerLine = Math.max(1, lines.findIndex((l) => /^\[project\]\s*$/.test(l)) + 1);
  const requires = (project.dependencies ?? []).map((dep) => {
    const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*)(?:;(.*))?$/.exec(dep);
    const key = m ? requirementKey(m[1]!, m[3] ?? '', m[4] ?? '') : dep;
    const index = lines.findIndex((l) => l.includes(JSON.stringify(dep)) || l.includes(`'${dep}'`));
    return { key, text: dep, line: index >= 0 ? index + 1 : headerLine };
  });
  return { name: project.name, requires, requiresPython: project['requires-python'], headerLine };
}
