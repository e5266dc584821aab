/**
 * SOURCE_DATE_EPOCH: the one clock of a release. Every timestamp any stage
 * writes derives from it (https://reproducible-builds.org/specs/source-date-epoch/).
 */
import { execFileSync } from 'node:child_process';
import { ReleaseError } from './errors';

/** Where the resolved value came from. */
export type SourceDateEpochOrigin = 'environment' | 'git';

/** A resolved SOURCE_DATE_EPOCH in whole seconds since 1970-01-01T00:00:00Z. */
export interface SourceDateEpoch {
  seconds: number;
  origin: SourceDateEpochOrigin;
}

/**
 * The clocks a release can state: from 1980-01-01T00:00:00Z, the first time a
 * zip's DOS date holds, to 2106-02-07T06:28:15Z, the last an OpenPGP
 * signature's 32-bit creation time holds. Outside them a zip would state
 * another date than BUILD_META.txt, or a signature a wrapped one.
 */
export const SOURCE_DATE_EPOCH_MIN = 315_532_800;
export const SOURCE_DATE_EPOCH_MAX = 4_294_967_295;

/** `seconds`, once it is a clock a release can state; SOURCE_DATE_EPOCH_INVALID naming `where` otherwise. */
function withinRange(seconds: number, where: string): number {
  if (seconds >= SOURCE_DATE_EPOCH_MIN && seconds <= SOURCE_DATE_EPOCH_MAX) return seconds;
  const when = seconds < SOURCE_DATE_EPOCH_MIN ? 'before 1980-01-01T00:00:00Z (315532800), the first time a zip can hold' : 'after 2106-02-07T06:28:15Z (4294967295), the last time an OpenPGP signature can hold';
  throw new ReleaseError('SOURCE_DATE_EPOCH_INVALID', `${where} is ${when}; set SOURCE_DATE_EPOCH to a time between the two (e.g. $(git log -1 --format=%ct))`);
}

/**
 * Resolves SOURCE_DATE_EPOCH: the environment variable when set; else, with
 * `paths`, the time of the last commit that changed any of them (an
 * artifact's own clock: a commit elsewhere leaves its bytes and cache key
 * alone; HEAD's time when no commit touched them yet); else the commit time of
 * HEAD in `cwd`; else a clear error. {@link sourceDateEpochCommand} computes
 * the same for the Nx cache key.
 */
export function resolveSourceDateEpoch(
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
  paths?: readonly string[],
): SourceDateEpoch {
  const raw = env['SOURCE_DATE_EPOCH'];
  if (raw !== undefined && raw !== '') {
    if (!/^[0-9]{1,12}$/.test(raw)) {
      throw new ReleaseError(
        'SOURCE_DATE_EPOCH_INVALID',
        `SOURCE_DATE_EPOCH=${JSON.stringify(raw)} is not a whole number of seconds since 1970; ` +
          'set it to e.g. $(git log -1 --format=%ct) or unset it to use the commit time of HEAD',
      );
    }
    return { seconds: withinRange(Number(raw), `SOURCE_DATE_EPOCH=${raw}`), origin: 'environment' };
  }
  const git = (args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  let out: string;
  try {
    if (paths?.length) {
      // A shallow clone would answer with the oldest commit it has, not the one that changed the paths.
      if (git(['rev-parse', '--is-shallow-repository']) === 'true') {
        throw new ReleaseError(
          'SOURCE_DATE_EPOCH_UNAVAILABLE',
          `${cwd} is a shallow clone, so the last commit that changed an artifact's inputs is unknown; fetch the full history (git fetch --unshallow, or fetch-depth: 0 in CI) or set SOURCE_DATE_EPOCH`,
        );
      }
      out = git(['log', '-1', '--format=%ct', '--', ...paths]) || git(['log', '-1', '--format=%ct']);
    } else {
      out = git(['log', '-1', '--format=%ct']);
    }
  } catch (cause) {
    if (cause instanceof ReleaseError) throw cause;
    throw new ReleaseError(
      'SOURCE_DATE_EPOCH_UNAVAILABLE',
      `SOURCE_DATE_EPOCH is not set and ${cwd} has no git commit to take the time from; ` +
        'commit first, or set SOURCE_DATE_EPOCH to a Unix time in seconds',
      { cause },
    );
  }
  if (!/^[0-9]+$/.test(out)) {
    throw new ReleaseError(
      'SOURCE_DATE_EPOCH_UNAVAILABLE',
      `git log -1 --format=%ct in ${cwd} printed ${JSON.stringify(out)}, not a time; set SOURCE_DATE_EPOCH`,
    );
  }
  return { seconds: withinRange(Number(out), `the commit time ${out} (git log -1 --format=%ct${paths?.length ? ' of the artifact\'s inputs' : ''} in ${cwd})`), origin: 'git' };
}

/** `text` as one word of a POSIX shell command line. */
export function shellWord(text: string): string {
  return /^[\w./@+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The Nx runtime input that follows {@link resolveSourceDateEpoch}: a POSIX
 * shell line (Nx runs runtime inputs through the shell) printing the value a
 * stage will use, so that cache entries follow it. Plain git, no Node: a warm
 * run evaluates one of these per artifact and stage, and a Node start-up costs
 * 40-150 ms where git answers in a few. With `paths` it also prints whether
 * the clone is shallow (the stage then refuses to guess): a shallow clone never
 * hashes like a full one, so it never takes an entry built from the full history.
 */
export function sourceDateEpochCommand(paths: readonly string[] = []): string {
  const head = '$(git log -1 --format=%ct 2>/dev/null)';
  if (!paths.length) return `echo "SOURCE_DATE_EPOCH=\${SOURCE_DATE_EPOCH:-${head}}"`;
  return [
    `t=$(git log -1 --format=%ct -- ${paths.map(shellWord).join(' ')} 2>/dev/null)`,
    `echo "SOURCE_DATE_EPOCH=\${SOURCE_DATE_EPOCH:-\${t:-${head}}} shallow=$(git rev-parse --is-shallow-repository 2>/dev/null)"`,
  ].join('; ');
}

/** RFC 3339 UTC form of a SOURCE_DATE_EPOCH, e.g. `2026-11-26T08:56:49Z`. */
export function epochToIso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}
