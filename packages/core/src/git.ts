/**
 * The source a release is built from, as git tells it. Used by build-meta and
 * provenance (and hashed into their Nx inputs by {@link gitStateCommand}).
 */
import { HELIX_URI_BASE } from '@helix-release/format';
import { runTool } from './tool';

/** HEAD and its surroundings. */
export interface GitState {
  /** Full commit id of HEAD ('' outside a checkout). */
  commit: string;
  /** The tag pointing exactly at HEAD, if any. */
  tag: string | undefined;
  /** `origin`'s URL, if any. */
  remote: string | undefined;
  /** The branch or ref name, if any. */
  ref: string | undefined;
  /** Whether tracked files differ from HEAD or untracked files exist. */
  dirty: boolean;
  /** The paths that make it dirty (`git status --porcelain`), sorted. */
  changes: string[];
}

async function git(cwd: string, ...args: string[]): Promise<string | undefined> {
  try {
    return (await runTool({ command: 'git', args, cwd })).stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The Nx runtime input of the stages that record the source: a POSIX shell
 * line printing what {@link readGitState} reads (HEAD, its tag, the remote,
 * the ref and the changed paths), with plain git and no Node start-up.
 */
export function gitStateCommand(): string {
  const q = (label: string, args: string) => `${label}=$(git ${args} 2>/dev/null)`;
  return `echo "${[q('commit', 'rev-parse HEAD'), q('tag', 'describe --tags --exact-match HEAD'), q('remote', 'remote get-url origin'), q('ref', 'symbolic-ref -q HEAD')].join(' ')}"; git status --porcelain --untracked-files=normal 2>/dev/null`;
}

/** Reads the git state of `cwd`. */
export async function readGitState(cwd: string): Promise<GitState> {
  const [commit, tag, remote, ref, status] = await Promise.all([
    git(cwd, 'rev-parse', 'HEAD'),
    git(cwd, 'describe', '--tags', '--exact-match', 'HEAD'),
    git(cwd, 'remote', 'get-url', 'origin'),
    git(cwd, 'symbolic-ref', '-q', 'HEAD'),
    // Untrimmed: a porcelain line starts with its two status columns, the first often a space.
    runTool({ command: 'git', args: ['status', '--porcelain', '-z', '--untracked-files=normal'], cwd }).then(
      (r) => r.stdout || undefined,
      () => undefined,
    ),
  ]);
  // -z: NUL-terminated entries; a rename is followed by an entry holding its old path, which is skipped.
  const entries = (status ?? '').split('\0');
  const changes: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (entry.length < 4) continue;
    changes.push(entry.slice(3));
    if (entry[0] === 'R' || entry[0] === 'C') i++;
  }
  changes.sort();
  return { commit: commit ?? '', tag, remote, ref, dirty: status !== undefined, changes };
}

/** Who built the release, for BUILD_META and provenance. */
export interface BuilderIdentity {
  /** `local`, `github-actions` or `ci`. */
  kind: 'local' | 'github-actions' | 'ci';
  /** SLSA `runDetails.builder.id`. */
  id: string;
  /** SLSA `runDetails.metadata.invocationId`, when CI provides one. */
  invocationId: string | undefined;
  /** Start time from CI, when it provides one (never the local wall clock). */
  startedOn: string | undefined;
}

/** The builder, derived from the CI environment when present. */
export function builderIdentity(env: NodeJS.ProcessEnv): BuilderIdentity {
  if (env['GITHUB_ACTIONS'] === 'true') {
    const server = env['GITHUB_SERVER_URL'] ?? 'https://github.com';
    const repo = env['GITHUB_REPOSITORY'] ?? 'unknown/unknown';
    const workflow = env['GITHUB_WORKFLOW_REF'];
    const run = env['GITHUB_RUN_ID'];
    return {
      kind: 'github-actions',
      id: workflow ? `${server}/${workflow}` : `${server}/${repo}/.github/workflows`,
      invocationId: run ? `${server}/${repo}/actions/runs/${run}/attempts/${env['GITHUB_RUN_ATTEMPT'] ?? '1'}` : undefined,
      startedOn: env['HELIX_BUILD_STARTED_ON'] || undefined,
    };
  }
  if (env['CI'] === 'true' || env['CI'] === '1') {
    return { kind: 'ci', id: `${HELIX_URI_BASE}/builders/ci/v1`, invocationId: env['HELIX_INVOCATION_ID'] || undefined, startedOn: env['HELIX_BUILD_STARTED_ON'] || undefined };
  }
  return { kind: 'local', id: `${HELIX_URI_BASE}/builders/local/v1`, invocationId: undefined, startedOn: undefined };
}
