/**
 * PEP 508 environment markers, evaluated for a *target* platform (the one an
 * artifact was built for, not necessarily this machine). Enough of PEP 508 for
 * lockfiles: `and`/`or`/parentheses, the comparison operators, `in`/`not in`,
 * and version comparison for the version variables.
 */
import { ReleaseError } from './errors';

/** Marker variables of a target environment. */
export type MarkerEnvironment = Record<string, string>;

/** The marker environment of a CPython build for a platform tag (`linux-x86_64`, `windows-x86_64`, `macos-arm64`). */
export function markerEnvironment(platform: string, pythonVersion: string): MarkerEnvironment {
  const [os, cpu = ''] = platform.split('-', 2) as [string, string?];
  const sys = os === 'windows' ? 'win32' : os === 'macos' ? 'darwin' : os;
  const system = os === 'windows' ? 'Windows' : os === 'macos' ? 'Darwin' : os.charAt(0).toUpperCase() + os.slice(1);
  const machine = os === 'windows' && cpu === 'x86_64' ? 'AMD64' : cpu;
  return {
    os_name: os === 'windows' ? 'nt' : 'posix',
    sys_platform: sys,
    platform_system: system,
    platform_machine: machine,
    platform_python_implementation: 'CPython',
    implementation_name: 'cpython',
    python_version: pythonVersion.split('.').slice(0, 2).join('.'),
    python_full_version: pythonVersion,
    implementation_version: pythonVersion,
    platform_release: '',
    platform_version: '',
    extra: '',
  };
}

type Token = { t: 'str' | 'var' | 'op' | '(' | ')' | 'and' | 'or'; v: string };

function tokenize(marker: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\()|(\))|("[^"]*"|'[^']*')|(===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b)|(and\b|or\b)|([A-Za-z_][A-Za-z0-9_.]*))/y;
  let pos = 0;
  while (pos < marker.length) {
    if (/^\s*$/.test(marker.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(marker);
    if (!m) throw new ReleaseError('MARKER_INVALID', `cannot read marker ${JSON.stringify(marker)} at ${pos}`);
    pos = re.lastIndex;
    if (m[1]) tokens.push({ t: '(', v: '(' });
    else if (m[2]) tokens.push({ t: ')', v: ')' });
    else if (m[3]) tokens.push({ t: 'str', v: m[3].slice(1, -1) });
    else if (m[4]) tokens.push({ t: 'op', v: m[4].replace(/\s+/, ' ') });
    else if (m[5]) tokens.push({ t: m[5] as 'and' | 'or', v: m[5] });
    else tokens.push({ t: 'var', v: m[6]! });
  }
  return tokens;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

const VERSION_VARS = new Set(['python_version', 'python_full_version', 'implementation_version']);

function compare(left: string, op: string, right: string, versions: boolean): boolean {
  if (op === 'in') return right.includes(left);
  if (op === 'not in') return !right.includes(left);
  if (versions && op !== '===') {
    const d = compareVersions(left, right);
    switch (op) {
      case '==': return d === 0;
      case '!=': return d !== 0;
      case '<': return d < 0;
      case '<=': return d <= 0;
      case '>': return d > 0;
      case '>=': return d >= 0;
      case '~=': return d >= 0 && compareVersions(left, right.split('.').slice(0, -1).join('.') + '.999999') <= 0;
    }
  }
  switch (op) {
    case '==': case '===': return left === right;
    case '!=': return left !== right;
    default: throw new ReleaseError('MARKER_INVALID', `operator ${op} needs versions`);
  }
}

/** Evaluates a PEP 508 marker ('' is true) in `env`. */
export function evaluateMarker(marker: string, env: MarkerEnvironment): boolean {
  if (marker.trim() === '') return true;
  const tokens = tokenize(marker);
  let i = 0;
  const value = (): { v: string; isVar: string | undefined } => {
    const tok = tokens[i++];
    if (!tok) throw new ReleaseError('MARKER_INVALID', `marker ${JSON.stringify(marker)} ends early`);
    if (tok.t === 'str') return { v: tok.v, isVar: undefined };
    if (tok.t === 'var') {
      if (!(tok.v in env)) throw new ReleaseError('MARKER_INVALID', `unknown marker variable ${tok.v}`);
      return { v: env[tok.v]!, isVar: tok.v };
    }
    throw new ReleaseError('MARKER_INVALID', `unexpected ${tok.v} in marker ${JSON.stringify(marker)}`);
  };
  const atom = (): boolean => {
    if (tokens[i]?.t === '(') {
      i++;
      const r = or();
      if (tokens[i++]?.t !== ')') throw new ReleaseError('MARKER_INVALID', `unbalanced parentheses in ${JSON.stringify(marker)}`);
      return r;
    }
    const left = value();
    const op = tokens[i++];
    if (op?.t !== 'op') throw new ReleaseError('MARKER_INVALID', `expected an operator in ${JSON.stringify(marker)}`);
    const right = value();
    const versions = VERSION_VARS.has(left.isVar ?? '') || VERSION_VARS.has(right.isVar ?? '');
    return compare(left.v, op.v, right.v, versions);
  };
  const and = (): boolean => {
    let r = atom();
    while (tokens[i]?.t === 'and') {
      i++;
      r = atom() && r;
    }
    return r;
  };
  const or = (): boolean => {
    let r = and();
    while (tokens[i]?.t === 'or') {
      i++;
      r = and() || r;
    }
    return r;
  };
  const result = or();
  if (i !== tokens.length) throw new ReleaseError('MARKER_INVALID', `trailing text in marker ${JSON.stringify(marker)}`);
  return result;
}
