/**
 * The SHA256SUMS.txt format, exactly what `sha256sum -c --strict` reads and
 * what GNU sha256sum writes in text mode: `<64 lowercase hex><2 spaces><name>\n`,
 * LF endings, sorted by the bytes of the name, names relative to the release
 * folder with `/` separators.
 */
import { compareBytes } from './bytes';
import { ReleaseError } from './errors';
import { checkReleasePath } from './paths';

/** One line of SHA256SUMS.txt. */
export interface SumLine {
  sha256: string;
  path: string;
}

/** Formats lines (sorted here). Throws on a name that would break the format. */
export function formatSums(lines: readonly SumLine[]): string {
  const sorted = [...lines].sort((a, b) => compareBytes(a.path, b.path));
  for (const line of sorted) {
    const problem = checkReleasePath(line.path);
    if (problem) throw new ReleaseError('SUMS_MALFORMED', `${JSON.stringify(line.path)}: ${problem}`);
    if (!/^[0-9a-f]{64}$/.test(line.sha256)) throw new ReleaseError('SUMS_MALFORMED', `${line.path}: not a sha256 digest`);
  }
  return sorted.map((l) => `${l.sha256}  ${l.path}\n`).join('');
}

/**
 * Parses SHA256SUMS.txt strictly: the format above, no duplicates, no unsafe
 * names (absolute, `..`), sorted. `file` names it in errors.
 */
export function parseSums(text: string, file: string): SumLine[] {
  if (text !== '' && !text.endsWith('\n')) throw new ReleaseError('SUMS_MALFORMED', 'the last line has no newline', { file });
  const lines = text === '' ? [] : text.slice(0, -1).split('\n');
  const out: SumLine[] = [];
  lines.forEach((line, i) => {
    const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (!m) throw new ReleaseError('SUMS_MALFORMED', `line ${i + 1} is not "<sha256>  <name>"`, { file });
    const problem = checkReleasePath(m[2]!);
    if (problem) throw new ReleaseError('SUMS_MALFORMED', `line ${i + 1}: ${JSON.stringify(m[2])}: ${problem}`, { file });
    out.push({ sha256: m[1]!, path: m[2]! });
  });
  const paths = out.map((l) => l.path);
  if (new Set(paths).size !== paths.length) throw new ReleaseError('SUMS_MALFORMED', 'a name is listed twice', { file });
  if ([...paths].sort(compareBytes).some((p, i) => p !== paths[i])) throw new ReleaseError('SUMS_MALFORMED', 'lines are not sorted by name', { file });
  return out;
}
