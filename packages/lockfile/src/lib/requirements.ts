/**
 * A strict reader of pip requirements files for release builds: every
 * requirement must be `name==version` with at least one `--hash=sha256:`,
 * from an index (no editable, VCS, URL or path requirements).
 */
import { LockError } from './errors';

/** One pinned requirement. */
export interface PinnedRequirement {
  /** Normalised name (PEP 503: lowercase, runs of -_. become -). */
  name: string;
  version: string;
  /** Environment marker text, or '' when unconditional. */
  marker: string;
  /** sha256 hex digests. */
  hashes: string[];
  /** 1-based line where the requirement starts. */
  line: number;
}

/** Options a release requirements file may carry; anything else is refused. */
const ALLOWED_OPTIONS = new Set(['--index-url', '-i', '--require-hashes', '--only-binary', '--prefer-binary', '--no-binary']);

/** PEP 503 normalisation. */
export function normaliseName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

function logicalLines(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  const physical = text.split(/\r?\n/);
  let current = '';
  let start = 0;
  physical.forEach((raw, i) => {
    if (current === '') start = i + 1;
    // pip: a comment starts at a '#' at the line start or after white space.
    const uncommented = raw.replace(/(^|\s)#.*$/, '');
    if (/\\$/.test(uncommented)) {
      current += `${uncommented.slice(0, -1)} `;
      return;
    }
    current += uncommented;
    if (current.trim() !== '') out.push({ text: current.trim(), line: start });
    current = '';
  });
  if (current.trim() !== '') out.push({ text: current.trim(), line: start });
  return out;
}

/**
 * Parses and checks a requirements file. `file` is the path shown in errors;
 * every error names `file:line` and says how to fix it.
 */
export function parseRequirements(text: string, file: string): PinnedRequirement[] {
  const out: PinnedRequirement[] = [];
  const seen = new Map<string, number>();
  const regenerate = 'regenerate it with `uv export --format requirements-txt --hashes --no-emit-project -o requirements.txt`';
  for (const { text: line, line: number } of logicalLines(text)) {
    const at = `${file}:${number}`;
    if (line.startsWith('-')) {
      const [option] = line.split(/[\s=]/, 1);
      if (option === '-e' || option === '--editable') {
        throw new LockError('LOCK_EDITABLE', `editable requirement ${JSON.stringify(line)}: a release must install from locked, hashed distributions`, { file: at });
      }
      if (!ALLOWED_OPTIONS.has(option!)) {
        throw new LockError(
          'LOCK_UNSUPPORTED_OPTION',
          `option ${option} is not allowed in a release requirements file (it can pull code from outside the locked set); remove it`,
          { file: at },
        );
      }
      if ((option === '--index-url' || option === '-i') && !/\shttps:\/\/|=https:\/\//.test(line)) {
        throw new LockError('LOCK_UNSUPPORTED_OPTION', 'the index must be reached over https', { file: at });
      }
      continue;
    }
    const hashes: string[] = [];
    const tokens = line.split(/\s+(?=--)/);
    const requirement = tokens[0]!.trim();
    for (const option of tokens.slice(1)) {
      const m = /^--hash[=\s]+([A-Za-z0-9]+):([0-9a-fA-F]+)$/.exec(option.trim());
      if (!m) {
        throw new LockError('LOCK_UNSUPPORTED_OPTION', `unexpected ${JSON.stringify(option.trim())} after the requirement; only --hash=sha256:<hex> may follow it`, { file: at });
      }
      if (m[1] !== 'sha256' || m[2]!.length !== 64) {
        throw new LockError('LOCK_BAD_HASH', `${m[1]}:${m[2]} is not a sha256 digest (64 hex digits); ${regenerate}`, { file: at });
      }
      hashes.push(m[2]!.toLowerCase());
    }
    if (/:\/\/|^(git|hg|svn|bzr)\+|^\.{0,2}\/|^[A-Za-z]:\\|\s@\s|^[^;]*@/.test(requirement)) {
      throw new LockError(
        'LOCK_URL_REQUIREMENT',
        `${JSON.stringify(requirement)} is a URL, VCS or path requirement; release builds take only index distributions pinned by hash`,
        { file: at },
      );
    }
    const [spec, ...markerParts] = requirement.split(';');
    const marker = markerParts.join(';').trim();
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$/.exec(spec!.trim());
    if (!m) throw new LockError('LOCK_SYNTAX', `cannot read requirement ${JSON.stringify(requirement)}`, { file: at });
    const name = normaliseName(m[1]!);
    const specifier = m[3]!.replace(/\s+/g, '');
    const pin = /^==([A-Za-z0-9.+!_-]+)$/.exec(specifier);
    if (!pin) {
      throw new LockError(
        'LOCK_UNPINNED',
        `${m[1]}${specifier ? ` ${specifier}` : ''} is not pinned to one version with ==; ${regenerate}`,
        { file: at },
      );
    }
    if (hashes.length === 0) {
      throw new LockError('LOCK_UNHASHED', `${m[1]}==${pin[1]} has no --hash=sha256:…; pip cannot check what it downloads. ${regenerate}`, { file: at });
    }
    const key = `${name};${marker}`;
    if (seen.has(key)) {
      throw new LockError('LOCK_DUPLICATE', `${m[1]} is listed again (first at line ${seen.get(key)})`, { file: at });
    }
    seen.set(key, number);
    out.push({ name, version: pin[1]!, marker, hashes: [...new Set(hashes)].sort(), line: number });
  }
  return out;
}
