/**
 * Local + CI parity: the stage order lives in release.config.ts (through
 * releasePlan); the CI workflow (.github/workflows/release.yml) and
 * tools/release_local.sh must run the same stages in the same order.
 *
 * - the PR job's `nx affected -t` list is the plan's stage targets minus sign;
 *   the tag build job runs exactly the build stages; the publish job runs
 *   tools/release_local.sh;
 * - `release_local.sh --print-plan` equals `helix-release plan --local`, which
 *   is the plan minus the builders (package, plugin-zip) and the per-artifact
 *   evidence stages (app-conformance, artifact-sbom), which the release-level
 *   stages do for imported artifacts (and follows a changed config);
 * - the comparison reports a stage the workflow lacks (a config with one more
 *   custom stage);
 * - actionlint (built by `npx nx run release:toolchain --dev`) passes on
 *   every file of .github/workflows and fails on broken copies of them;
 * - every `uses:` of every workflow is pinned to a full commit SHA with a
 *   `# vX.Y.Z` comment;
 * - the GitHub artifact attestation (job attest) takes its subjects from
 *   SHA256SUMS.txt, and only its job holds id-token / attestations write;
 * - no job that holds GPG_PRIVATE_KEY or GPG_PASSPHRASE runs npm ci or an
 *   Nx target (a known gap until issue 16 item 4: the exact list of today's);
 * - the tag's release is a draft until an independent job rebuilt it
 *   (`helix-release reproduce`, no secret, no write) and a job that runs no
 *   project code attached the PASSED statement and published it;
 * - Authenticode is opt-in, through a signing service, without a PFX;
 * - patch-train.yml: weekly, dry run on pull requests, emergency dispatch,
 *   versions from tools/next_patch_version.sh (tools/patch-train.spec.ts),
 *   secrets away from the jobs that run project code.
 *
 * Every check is also run on mutated copies of the workflows, to show that
 * it reports what it should.
 *
 * The workflow is read as text (no YAML dependency): job blocks by their
 * two-space indent under `jobs:`, and their `run:` commands.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  loadConfig,
  readPins,
  releasePlan,
  resolveConfig,
  toolchainPaths,
  type ResolvedConfig,
} from '@helix-release/core';
import { BUILT_IN_STAGES } from '@helix-release/nx-plugin/src/lib/stages';

/** The per-project stages that make the artifacts (the matrix build job runs them). */
const BUILD_STAGES = BUILT_IN_STAGES.filter((s) => s.scope !== 'release' && !s.describesArtifact).map((s) => s.name);
/** What an import plan leaves out: the builders, and what describes a built artifact (the release-level stages do that). */
const NOT_IMPORTED = new Set(BUILT_IN_STAGES.filter((s) => s.buildsArtifacts || s.describesArtifact).map((s) => s.name));

const ROOT = resolve(__dirname, '..');
const WORKFLOW_DIR = join(ROOT, '.github', 'workflows');
const WORKFLOW = join(WORKFLOW_DIR, 'release.yml');
const RELEASE_LOCAL = join(ROOT, 'tools', 'release_local.sh');
const CLI = join(ROOT, 'packages', 'cli', 'bin', 'helix-release.cjs');

/** The `run:` commands of each job, by job id (line continuations joined). */
export function workflowRuns(text: string): Map<string, string[]> {
  const lines = text.split(/\r?\n/);
  const jobs = new Map<string, string[]>();
  let inJobs = false;
  let job: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\S/.test(line)) {
      inJobs = /^jobs:\s*(#.*)?$/.test(line);
      job = undefined;
      continue;
    }
    if (!inJobs) continue;
    const head = /^ {2}([A-Za-z_][\w-]*):\s*(#.*)?$/.exec(line);
    if (head) {
      job = head[1]!;
      jobs.set(job, []);
      continue;
    }
    if (job === undefined) continue;
    const run = /^(\s*)(?:-\s+)?run:\s*(.*)$/.exec(line);
    if (!run) continue;
    const indent = run[1]!.length;
    let value = run[2]!.trim();
    if (/^[|>][-+]?\d*$/.test(value)) {
      const body: string[] = [];
      while (i + 1 < lines.length && (lines[i + 1]!.trim() === '' || lines[i + 1]!.search(/\S/) > indent)) body.push(lines[++i]!.trim());
      value = body.join('\n').trim();
    }
    jobs.get(job)!.push(value.replace(/\\\n/g, ' '));
  }
  return jobs;
}

/** The `-t` lists of every `nx <command>` in a shell command. */
export function nxTargetLists(command: string, nxCommand: 'affected' | 'run-many'): string[][] {
  const lists: string[][] = [];
  for (const line of command.split('\n')) {
    const m = new RegExp(`\\bnx\\s+${nxCommand}\\b(.*)$`).exec(line);
    if (!m) continue;
    const t = /(?:^|\s)(?:-t|--targets?)(?:=|\s+)(\S+)/.exec(m[1]!);
    lists.push(t ? t[1]!.replace(/^["']|["']$/g, '').split(',').filter(Boolean) : []);
  }
  return lists;
}

/**
 * Compares the workflow with the plan of `config`; returns the problems
 * (empty when the workflow runs the plan's stages in the plan's order).
 */
export function checkWorkflowParity(config: ResolvedConfig, workflowText: string): string[] {
  const stageTargets = releasePlan(BUILT_IN_STAGES, config, { apps: [], plugins: [] }).stageTargets;
  const jobs = workflowRuns(workflowText);
  const problems: string[] = [];
  // `split`: the job may run its targets in several commands (the build job
  // runs plugin-zip in a step of its own, the one that holds the plugin key);
  // together, in order, they are the expected list.
  const checkList = (job: string, nxCommand: 'affected' | 'run-many', expected: readonly string[], split = false) => {
    const runs = jobs.get(job);
    if (!runs) {
      problems.push(`the workflow has no job ${job}`);
      return;
    }
    const lists = runs.flatMap((r) => nxTargetLists(r, nxCommand));
    if (lists.length === 0 || (!split && lists.length !== 1)) {
      problems.push(`job ${job}: expected ${split ? 'one or more' : 'one'} \`nx ${nxCommand} -t <targets>\` command${split ? 's' : ''}, found ${lists.length}`);
      return;
    }
    const actual = lists.flat();
    const missing = expected.filter((t) => !actual.includes(t));
    const extra = actual.filter((t) => !expected.includes(t));
    if (missing.length) problems.push(`job ${job} is missing stage(s) ${missing.join(', ')} of release.config.ts`);
    if (extra.length) problems.push(`job ${job} runs target(s) ${extra.join(', ')} that it should not`);
    if (!missing.length && !extra.length && actual.join(',') !== expected.join(',')) {
      problems.push(`job ${job} runs ${actual.join(',')}; the plan's order is ${expected.join(',')}`);
    }
  };
  checkList('affected', 'affected', stageTargets.filter((t) => t !== 'sign'));
  checkList('build', 'run-many', BUILD_STAGES, true);
  const publish = jobs.get('publish');
  if (!publish) problems.push('the workflow has no job publish');
  else if (!publish.some((r) => /(?:^|[\s/])tools\/release_local\.sh\b/.test(r))) problems.push('job publish does not run tools/release_local.sh');
  return problems;
}

/** `uses:` lines not pinned to a 40-hex commit with a `# vX.Y.Z` comment. */
export function unpinnedUses(workflowText: string): string[] {
  return workflowText
    .split(/\r?\n/)
    .filter((l) => /^\s*(?:-\s+)?uses:/.test(l))
    .filter((l) => !/^\s*(?:-\s+)?uses:\s+[\w.-]+\/[\w./-]+@[0-9a-f]{40}\s+#\s*v\d+\.\d+\.\d+\s*$/.test(l));
}

function run(command: string, args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' } });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (s: string) => s.split('\n').filter(Boolean);

let config: ResolvedConfig;
let stageTargets: string[];
let workflow: string;
/** Every workflow file, by file name. */
let workflows: Map<string, string>;
let scratch: string;

beforeAll(async () => {
  config = await loadConfig(ROOT);
  stageTargets = releasePlan(BUILT_IN_STAGES, config, { apps: [], plugins: [] }).stageTargets;
  workflow = await readFile(WORKFLOW, 'utf8');
  workflows = new Map(
    await Promise.all(
      readdirSync(WORKFLOW_DIR)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map(async (f) => [f, await readFile(join(WORKFLOW_DIR, f), 'utf8')] as const),
    ),
  );
  scratch = await mkdtemp(join(tmpdir(), 'helix-release-parity-'));
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('the CI workflow runs the plan of release.config.ts', () => {
  it('PR job: nx affected -t <every stage but sign>, in plan order; build job: the build stages; publish: release_local.sh', () => {
    expect(stageTargets.slice(0, 3)).toEqual(['lock', 'package', 'plugin-zip']);
    expect(stageTargets.at(-1)).toBe('sign');
    const jobs = workflowRuns(workflow);
    expect(nxTargetLists(jobs.get('affected')!.join('\n'), 'affected')).toEqual([stageTargets.filter((t) => t !== 'sign')]);
    expect(nxTargetLists(jobs.get('build')!.join('\n'), 'run-many')).toEqual([['lock', 'package'], ['plugin-zip']]);
    expect(checkWorkflowParity(config, workflow)).toEqual([]);
  });

  it('reports a custom stage the workflow does not run', () => {
    const extended = resolveConfig({
      apps: { root: config.apps.root },
      stages: [
        ...config.stages.map((s) => ({ name: s.name, executor: s.executor, after: s.after, outputs: s.outputs })),
        { name: 'security-scan', executor: '@example/scan:scan', after: 'conformance', outputs: [{ path: 'SECURITY-SCAN.txt' }] },
      ],
    });
    const problems = checkWorkflowParity(extended, workflow);
    expect(problems).toEqual([expect.stringMatching(/job affected is missing stage\(s\) security-scan/)]);
  });

  it('reports a wrong order, a stray sign and a publish job without release_local.sh', () => {
    const affected = stageTargets.filter((t) => t !== 'sign').join(',');
    const swapped = stageTargets.filter((t) => t !== 'sign');
    [swapped[4], swapped[5]] = [swapped[5]!, swapped[4]!];
    expect(checkWorkflowParity(config, workflow.replace(affected, swapped.join(',')))).toEqual([expect.stringMatching(/the plan's order is/)]);
    expect(checkWorkflowParity(config, workflow.replace(affected, `${affected},sign`))).toEqual([expect.stringMatching(/runs target\(s\) sign/)]);
    expect(checkWorkflowParity(config, workflow.replaceAll('tools/release_local.sh', 'echo'))).toEqual([
      'job publish does not run tools/release_local.sh',
    ]);
  });
});

/** Each job's block of the workflow (its lines, indented under `jobs:`), by job id. */
export function jobBlocks(text: string): Map<string, string> {
  const blocks = new Map<string, string>();
  let inJobs = false;
  let job: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (/^\S/.test(line)) {
      inJobs = /^jobs:\s*(#.*)?$/.test(line);
      job = undefined;
      continue;
    }
    const head = inJobs ? /^ {2}([A-Za-z_][\w-]*):\s*(#.*)?$/.exec(line) : null;
    if (head) {
      job = head[1]!;
      blocks.set(job, '');
    } else if (job !== undefined) {
      blocks.set(job, `${blocks.get(job)}${line}\n`);
    }
  }
  return blocks;
}

/** What is wrong with the workflow's cache policy (docs/ci-cache.md): empty when it holds. */
export function cachePolicyProblems(text: string, releaseLocal: string): string[] {
  const problems: string[] = [];
  const jobs = jobBlocks(text);
  const top = text.slice(0, text.search(/^jobs:/m));
  if (/NX_SELF_HOSTED_REMOTE_CACHE|actions\/cache/.test(top)) problems.push('the workflow-wide env names a shared cache');
  for (const [job, block] of jobs) {
    const shares = /actions\/cache(\/restore|\/save)?@|NX_SELF_HOSTED_REMOTE_CACHE_SERVER/.test(block);
    if (job === 'affected') continue;
    if (shares) problems.push(`job ${job} reads or writes a shared cache`);
    // A job that runs no Nx (the attestation job) cannot read the cache.
    const runsNx = (workflowRuns(`jobs:\n  ${job}:\n${block}`).get(job) ?? []).some((r) => /\bnpx\b|\bnx\b|\bnpm\b|release_local\.sh/.test(r));
    if (runsNx && !/NX_SKIP_REMOTE_CACHE: "true"/.test(block)) problems.push(`job ${job} does not set NX_SKIP_REMOTE_CACHE`);
    for (const run of workflowRuns(`jobs:\n  ${job}:\n${block}`).get(job) ?? []) {
      for (const m of run.matchAll(/npx nx (run-many|run|affected)\b[^\n;&|]*/g)) {
        if (!/release:toolchain/.test(m[0]) && !/--skip-nx-cache/.test(m[0])) problems.push(`job ${job}: ${m[0].trim()} may read the cache`);
      }
    }
  }
  for (const m of releaseLocal.matchAll(/npx nx (run-many|run)\b[^\n]*/g)) {
    if (!/release:toolchain|release:all/.test(m[0]) && !/--skip-nx-cache/.test(m[0])) problems.push(`release_local.sh: ${m[0].trim()} may read the cache`);
  }
  const affected = jobs.get('affected') ?? '';
  if (!/actions\/cache\/restore@/.test(affected) || !/actions\/cache\/save@/.test(affected)) problems.push('job affected does not share the Nx cache through actions/cache');
  if (/NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN:/.test(affected) && !/github\.event_name == 'pull_request' && secrets\.NX_CACHE_READ_TOKEN/.test(affected)) problems.push('job affected gives pull requests a token other than the read-only one');
  return problems;
}

describe('the workflow shares the Nx cache on pull requests and main only (docs/ci-cache.md)', () => {
  it('holds: the PR job restores and saves it; the tag build and the signing job never read a shared or local cache', async () => {
    expect(cachePolicyProblems(workflow, await readFile(RELEASE_LOCAL, 'utf8'))).toEqual([]);
  });

  it('reports a tag build that reads the cache, a restore in the publish job, and a PR given the write token', async () => {
    const local = await readFile(RELEASE_LOCAL, 'utf8');
    const readsCache = workflow.replace('-t plugin-zip --exclude-task-dependencies --skip-nx-cache', '-t plugin-zip --exclude-task-dependencies');
    expect(readsCache).not.toBe(workflow);
    expect(cachePolicyProblems(readsCache, local)).toEqual(['job build: npx nx run-many -t plugin-zip --exclude-task-dependencies may read the cache']);
    const restoreInPublish = workflow.replace(/(\n  publish:[\s\S]*?\n    steps:\n)/, '$1      - uses: actions/cache/restore@5a3ec84eff668545956fd18022155c47e93e2684 # v4.2.3\n        with: { path: .nx/cache, key: x }\n');
    expect(cachePolicyProblems(restoreInPublish, local)).toEqual(['job publish reads or writes a shared cache']);
    // The attestation job runs no Nx, so it needs no NX_SKIP_REMOTE_CACHE; once it runs a target, it does.
    const nxInAttest = workflow.replace(/(\n  attest:\n[\s\S]*?\n    steps:\n)/, '$1      - run: npx nx run release:sbom --skip-nx-cache\n');
    expect(nxInAttest).not.toBe(workflow);
    expect(cachePolicyProblems(nxInAttest, local)).toEqual(['job attest does not set NX_SKIP_REMOTE_CACHE']);
    const writeToken = workflow.replace("github.event_name == 'pull_request' && secrets.NX_CACHE_READ_TOKEN || secrets.NX_CACHE_WRITE_TOKEN", 'secrets.NX_CACHE_WRITE_TOKEN');
    expect(cachePolicyProblems(writeToken, local)).toEqual(['job affected gives pull requests a token other than the read-only one']);
    expect(cachePolicyProblems(workflow, local.replace('--exclude-task-dependencies --skip-nx-cache\n  fi', '--exclude-task-dependencies\n  fi'))).toEqual([expect.stringMatching(/^release_local\.sh: npx nx run "release:\$target" --exclude-task-dependencies may read the cache$/)]);
  });
});

/** The steps of a job block (each from its `- ` line), as text. */
export function stepBlocks(jobBlock: string): string[] {
  const steps: string[] = [];
  for (const line of jobBlock.split('\n')) {
    if (/^ {6}- /.test(line)) steps.push(`${line}\n`);
    else if (steps.length && (line.startsWith('        ') || line.trim() === '')) steps[steps.length - 1] += `${line}\n`;
  }
  return steps;
}

const SIGNING_SECRETS = /\b(GPG_PRIVATE_KEY|GPG_PASSPHRASE)\s*:/;
/** The plugin key: given to the one step that runs plugin-zip, which has no dependencies and starts no tool. */
const PLUGIN_SECRET = /\bHELIX_PLUGIN_SIGNING_KEY\s*:/;

/**
 * Signing isolated from the build (README "Keys and secrets"): every tool a
 * stage starts can read its parents' environment, so the signing secrets are
 * given to one step of the publish job, which runs `release_local.sh
 * --sign-only` (the sign stage alone) and no npm ci, Nx target or other
 * command; no workflow- or job-level env holds them; the step before builds
 * with `--no-sign`.
 */
export function signingIsolationProblems(text: string): string[] {
  const problems: string[] = [];
  const top = text.slice(0, text.search(/^jobs:/m));
  if (SIGNING_SECRETS.test(top)) problems.push('the workflow-wide env holds a signing secret');
  for (const [job, block] of jobBlocks(text)) {
    const jobEnv = block.split(/\n {4}steps:/)[0]!;
    if (SIGNING_SECRETS.test(jobEnv)) problems.push(`job ${job}: its job-level env holds a signing secret, so every step has it`);
    for (const step of stepBlocks(block)) {
      if (!SIGNING_SECRETS.test(step)) continue;
      const runs = workflowRuns(`jobs:\n  ${job}:\n    steps:\n${step}`).get(job) ?? [];
      const commands = runs.flatMap((r) => r.split('\n')).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
      const signs = commands.filter((c) => /^tools\/release_local\.sh --sign-only$/.test(c));
      const other = commands.filter((c) => /\bnpm\b|\bnpx\b|\bnx\b|release_local\.sh(?! --sign-only$)|node\s/.test(c));
      if (job !== 'publish' || signs.length !== 1) problems.push(`job ${job}: a step holds a signing secret but does not run tools/release_local.sh --sign-only (once)`);
      for (const c of other) problems.push(`job ${job}: the step holding the signing secret also runs ${JSON.stringify(c)}`);
    }
  }
  for (const [job, block] of jobBlocks(text)) {
    const jobEnv = block.split(/\n {4}steps:/)[0]!;
    if (PLUGIN_SECRET.test(jobEnv)) problems.push(`job ${job}: its job-level env holds the plugin signing key, so every step has it`);
    for (const step of stepBlocks(block)) {
      if (!PLUGIN_SECRET.test(step)) continue;
      const runs = workflowRuns(`jobs:\n  ${job}:\n    steps:\n${step}`).get(job) ?? [];
      const commands = runs.flatMap((r) => r.split('\n')).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
      const lists = commands.flatMap((c) => nxTargetLists(c, 'run-many'));
      const onlyPluginZip = commands.length === 1 && lists.length === 1 && lists[0]!.join(',') === 'plugin-zip' && !/--with-deps|--include-dependencies/.test(commands[0]!);
      if (!onlyPluginZip) problems.push(`job ${job}: the step holding the plugin signing key runs more than \`nx run-many -t plugin-zip\`: ${JSON.stringify(commands.join('; '))}`);
    }
  }
  const publish = jobBlocks(text).get('publish') ?? '';
  if (!/tools\/release_local\.sh --no-sign /.test(publish)) problems.push('job publish does not build the release with tools/release_local.sh --no-sign');
  return problems;
}

describe('the signing key reaches one step, which runs the sign stage alone', () => {
  it('holds for the workflow', () => {
    expect(signingIsolationProblems(workflow)).toEqual([]);
  });

  it('gives the plugin key to a step that runs plugin-zip alone, a stage with no dependencies that starts no tool', () => {
    const pluginZip = BUILT_IN_STAGES.find((s) => s.name === 'plugin-zip')!;
    expect(pluginZip.after).toEqual([]);
    // No module of the stage starts a process (the package stage's PyInstaller would read the key from /proc).
    for (const file of readdirSync(join(ROOT, 'packages/plugin-zip/src/lib')).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))) {
      expect(readFileSync(join(ROOT, 'packages/plugin-zip/src/lib', file), 'utf8'), file).not.toMatch(/child_process|runTool|execa|\bspawn\(/);
    }
    const together = workflow.replace(
      '        run: npx nx run-many -t lock,package --skip-nx-cache\n      - name: Build and sign the plugins\n        env:\n          HELIX_PLUGIN_SIGNING_KEY: ${{ secrets.HELIX_PLUGIN_SIGNING_KEY }}\n        run: npx nx run-many -t plugin-zip --exclude-task-dependencies --skip-nx-cache\n',
      '        env:\n          HELIX_PLUGIN_SIGNING_KEY: ${{ secrets.HELIX_PLUGIN_SIGNING_KEY }}\n        run: npx nx run-many -t lock,package,plugin-zip --skip-nx-cache\n',
    );
    expect(together).not.toBe(workflow);
    expect(signingIsolationProblems(together)).toEqual(['job build: the step holding the plugin signing key runs more than `nx run-many -t plugin-zip`: "npx nx run-many -t lock,package,plugin-zip --skip-nx-cache"']);
    // The same targets in one command still pass the plan check: only the secret's placement is wrong.
    expect(checkWorkflowParity(config, together)).toEqual([]);
    const jobLevel = workflow.replace(/(\n  build:\n[\s\S]*?\n    env:\n)/, '$1      HELIX_PLUGIN_SIGNING_KEY: ${{ secrets.HELIX_PLUGIN_SIGNING_KEY }}\n');
    expect(jobLevel).not.toBe(workflow);
    expect(signingIsolationProblems(jobLevel)).toContain('job build: its job-level env holds the plugin signing key, so every step has it');
  });

  it('reports the key at job level, the signing step running more, and the build step given the key', () => {
    const jobLevel = workflow.replace(/(\n  publish:\n[\s\S]*?\n    env:\n)/, '$1      GPG_PRIVATE_KEY: ${{ secrets.GPG_PRIVATE_KEY }}\n');
    expect(signingIsolationProblems(jobLevel)).toEqual(['job publish: its job-level env holds a signing secret, so every step has it']);
    const more = workflow.replace('          tools/release_local.sh --sign-only\n', '          npm ci\n          tools/release_local.sh --sign-only\n');
    expect(signingIsolationProblems(more)).toEqual(['job publish: the step holding the signing secret also runs "npm ci"']);
    const buildWithKey = workflow.replace(
      '        run: tools/release_local.sh --no-sign artifacts/*.zip\n',
      '        env:\n          GPG_PASSPHRASE: ${{ secrets.GPG_PASSPHRASE }}\n        run: tools/release_local.sh --no-sign artifacts/*.zip\n',
    );
    expect(signingIsolationProblems(buildWithKey)).toEqual([
      'job publish: a step holds a signing secret but does not run tools/release_local.sh --sign-only (once)',
      'job publish: the step holding the signing secret also runs "tools/release_local.sh --no-sign artifacts/*.zip"',
    ]);
  });
});

describe('tools/release_local.sh runs the plan of release.config.ts', () => {
  it('--print-plan equals `helix-release plan --local` equals the plan minus the builders and the per-artifact evidence', () => {
    const printed = run('bash', [RELEASE_LOCAL, '--print-plan'], scratch); // from another folder on purpose
    expect(printed.status, printed.stderr).toBe(0);
    const cli = run('node', [CLI, 'plan', '--local'], ROOT);
    expect(cli.status, cli.stderr).toBe(0);
    expect(lines(printed.stdout)).toEqual(lines(cli.stdout));
    expect(lines(printed.stdout)).toEqual(stageTargets.filter((t) => !NOT_IMPORTED.has(t)));
  });

  it('follows a release.config.ts with one more stage (no list of stages in the script)', async () => {
    const ws = join(scratch, 'workspace');
    await mkdir(join(ws, 'tools'), { recursive: true });
    await copyFile(RELEASE_LOCAL, join(ws, 'tools', 'release_local.sh'));
    await symlink(join(ROOT, 'node_modules'), join(ws, 'node_modules'));
    await symlink(join(ROOT, 'packages'), join(ws, 'packages'));
    const original = readFileSync(join(ROOT, 'release.config.ts'), 'utf8');
    const extra = "{ name: 'security-scan', executor: '@example/scan:scan', after: 'conformance', outputs: [{ path: 'SECURITY-SCAN.txt' }] },";
    const modified = original.replace(/\bstages:\s*\[/, (m) => `${m}\n    ${extra}`);
    expect(modified).not.toBe(original);
    await writeFile(join(ws, 'release.config.ts'), modified);

    const printed = run('bash', [join(ws, 'tools', 'release_local.sh'), '--print-plan'], scratch);
    expect(printed.status, printed.stderr).toBe(0);
    const targets = lines(printed.stdout);
    expect(targets.indexOf('security-scan')).toBe(targets.indexOf('conformance') + 1);
    expect(targets).toEqual(
      releasePlan(BUILT_IN_STAGES, await loadConfig(ws), { apps: [], plugins: [] }, 'import').stageTargets,
    );
    // ...and the workflow, unchanged, is now reported as missing it.
    expect(checkWorkflowParity(await loadConfig(ws), workflow)).toEqual([expect.stringMatching(/missing stage\(s\) security-scan/)]);
  });

  /**
   * Runs the script in a scratch workspace (release.config.ts, packages and
   * node_modules of this repository) with a stand-in `npx` that only logs
   * `HELIX_RELEASE_IMPORT|arguments`: the real `helix-release import` runs,
   * the Nx targets do not.
   */
  async function withFakeNpx(name: string): Promise<{ ws: string; exec: (args: string[], cwd: string) => ReturnType<typeof run> & { npx: string[] } }> {
    const ws = join(scratch, name);
    await mkdir(join(ws, 'tools'), { recursive: true });
    await copyFile(RELEASE_LOCAL, join(ws, 'tools', 'release_local.sh'));
    await copyFile(join(ROOT, 'release.config.ts'), join(ws, 'release.config.ts'));
    await symlink(join(ROOT, 'node_modules'), join(ws, 'node_modules'));
    await symlink(join(ROOT, 'packages'), join(ws, 'packages'));
    const bin = join(ws, 'fake-bin');
    await mkdir(bin);
    const log = join(ws, 'npx.log');
    await writeFile(join(bin, 'npx'), `#!/usr/bin/env bash\nprintf '%s|%s\\n' "\${HELIX_RELEASE_IMPORT:-}" "$*" >> ${JSON.stringify(log)}\n`, { mode: 0o755 });
    return {
      ws,
      exec: (args, cwd) => {
        const r = spawnSync('bash', [join(ws, 'tools', 'release_local.sh'), ...args], {
          cwd,
          encoding: 'utf8',
          env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, HELIX_RELEASE_IMPORT: undefined },
        });
        if (r.error) throw r.error;
        return { status: r.status, stdout: r.stdout, stderr: r.stderr, npx: existsSync(log) ? lines(readFileSync(log, 'utf8')) : [] };
      },
    };
  }

  it('with artifacts: toolchain, import (paths relative to the caller), then every --local target in order with HELIX_RELEASE_IMPORT=1', async () => {
    const { ws, exec } = await withFakeNpx('fake-npx-ok');
    const caller = join(scratch, 'caller');
    await mkdir(join(caller, 'artifacts'), { recursive: true });
    const zip = 'helix-studio-1.4.0-linux-x86_64.zip';
    await writeFile(join(caller, 'artifacts', zip), 'not really a zip; import only hashes installers');
    const result = exec([`artifacts/${zip}`], caller);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`imported ${zip.replace(/\./g, '\\.')} \\(installer`));
    expect(existsSync(join(ws, 'dist', 'release', zip))).toBe(true);
    const local = stageTargets.filter((t) => !NOT_IMPORTED.has(t));
    expect(result.npx).toEqual([
      '|nx run release:toolchain',
      ...local.map((t) =>
        t === 'lock' ? '1|nx run-many -t lock --exclude-task-dependencies --skip-nx-cache' : `1|nx run release:${t} --exclude-task-dependencies --skip-nx-cache`,
      ),
    ]);
  });

  it('exits non-zero on a missing artifact, with the import error, and runs no stage', async () => {
    const { exec } = await withFakeNpx('fake-npx-missing');
    const result = exec(['no-such-artifact.zip'], scratch);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/IMPORT_MISSING/);
    expect(result.stderr).toContain(join(scratch, 'no-such-artifact.zip'));
    expect(result.npx).toEqual(['|nx run release:toolchain']);
  });

  it('without artifacts runs release:all; --help, bad options and --print-plan with files', async () => {
    const { exec } = await withFakeNpx('fake-npx-all');
    const all = exec([], scratch);
    expect(all.status, all.stderr).toBe(0);
    expect(all.npx).toEqual(['|nx run release:all']);
    const help = exec(['--help'], scratch);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/release_local\.sh <artifact>/);
    expect(exec(['--no-such-option'], scratch).status).toBe(2);
    expect(exec(['--print-plan', 'x.zip'], scratch).status).toBe(2);
    expect(exec(['--help'], scratch).npx).toEqual(['|nx run release:all']);
  });
});

/** A `permissions:` block at `indent` (scope → level; `*` for read-all / write-all; {} for `{}`), or undefined when there is none. */
function permissionsAt(text: string, indent: number): Record<string, string> | undefined {
  const lines = text.split('\n');
  const pad = ' '.repeat(indent);
  const i = lines.findIndex((l) => l.startsWith(`${pad}permissions:`));
  if (i < 0) return undefined;
  const inline = lines[i]!.slice(`${pad}permissions:`.length).replace(/\s+#.*$/, '').trim();
  if (inline === '{}') return {};
  if (inline) return { '*': inline };
  const perms: Record<string, string> = {};
  for (let j = i + 1; j < lines.length && lines[j]!.startsWith(`${pad}  `) && !lines[j]!.startsWith(`${pad}   `); j++) {
    const m = /^\s+([\w-]+):\s*([\w-]+)/.exec(lines[j]!);
    if (m) perms[m[1]!] = m[2]!;
  }
  return perms;
}

/** The workflow-wide `permissions:`, and a job's own (its block, before `steps:`). */
export const workflowPermissions = (text: string) => permissionsAt(text.slice(0, text.search(/^jobs:/m)), 0);
export const jobPermissions = (jobBlock: string) => permissionsAt(jobBlock.split(/\n {4}steps:/)[0]!, 4);

const writes = (perms: Record<string, string> | undefined, scope: string) => perms?.['*'] === 'write-all' || perms?.[scope] === 'write';

/** The commands of a job's `run:` steps, a line each, comments left out. */
function jobCommands(job: string, block: string): string[] {
  return (workflowRuns(`jobs:\n  ${job}:\n${block}`).get(job) ?? [])
    .flatMap((r) => r.split('\n'))
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** Code of this repository: a checkout, npm, Nx, or a script of tools/. */
const runsProjectCode = (job: string, block: string) =>
  /uses:\s+actions\/checkout@/.test(block) || jobCommands(job, block).some((c) => /\bnpm\b|\bnpx\b|\bnx\b|(^|[\s/])tools\//.test(c));

/**
 * GitHub artifact attestations (release.yml): the one job that uses
 * actions/attest-build-provenance (when `required`) takes its subjects from
 * SHA256SUMS.txt (`subject-checksums:`, no other subject input), holds
 * `id-token: write` and `attestations: write` itself, no other write
 * permission and no project code; no other job, and not the workflow-wide
 * permissions, grants either.
 */
export function attestationProblems(text: string, required: boolean): string[] {
  const problems: string[] = [];
  const top = workflowPermissions(text);
  if (writes(top, 'id-token') || writes(top, 'attestations')) problems.push('the workflow-wide permissions grant id-token or attestations write');
  const attesting: string[] = [];
  for (const [job, block] of jobBlocks(text)) {
    const perms = jobPermissions(block);
    const attestSteps = stepBlocks(block).filter((st) => /uses:\s+actions\/attest(?:-build-provenance)?@/.test(st));
    if (attestSteps.length === 0) {
      if (writes(perms, 'id-token') || writes(perms, 'attestations')) problems.push(`job ${job} has id-token or attestations write but does not attest`);
      continue;
    }
    attesting.push(job);
    for (const st of attestSteps) {
      const subjects = /^\s+subject-checksums:\s*(\S.*?)\s*$/m.exec(st);
      if (!subjects || !/(?:^|\/)SHA256SUMS\.txt$/.test(subjects[1]!)) problems.push(`job ${job}: the attestation does not take its subjects from SHA256SUMS.txt (subject-checksums)`);
      if (/^\s+subject-(?:path|digest|name):/m.test(st)) problems.push(`job ${job}: the attestation names subjects besides SHA256SUMS.txt`);
    }
    if (perms?.['id-token'] !== 'write' || perms?.['attestations'] !== 'write') problems.push(`job ${job} attests without its own id-token: write and attestations: write`);
    const other = Object.entries(perms ?? {}).filter(([scope, level]) => level === 'write' && scope !== 'id-token' && scope !== 'attestations');
    if (perms?.['*'] || other.length) problems.push(`job ${job}, which can mint an OIDC token, has more: ${JSON.stringify(perms)}`);
    if (runsProjectCode(job, block)) problems.push(`job ${job}, which can mint an OIDC token, runs code of this repository`);
  }
  if (required && attesting.length !== 1) problems.push(`expected one job that attests, found ${attesting.length}`);
  return problems;
}

/** A job holds a signing secret when it names it as a secret, or passes every secret on. */
const HOLDS_SIGNING_SECRET = /secrets\.(?:GPG_PRIVATE_KEY|GPG_PASSPHRASE)\b|secrets\[\s*'(?:GPG_PRIVATE_KEY|GPG_PASSPHRASE)'|toJSON\(\s*secrets\s*\)|secrets:\s*inherit/;
/** Project build code: npm ci / install / run / test, an Nx target, or tools/release_local.sh (which runs Nx targets). */
const BUILD_COMMANDS: [string, RegExp][] = [
  ['npm ci or install', /\bnpm\s+(?:ci|install|i)\b/],
  ['an npm script', /\bnpm\s+(?:run|run-script|test|t|start|exec)\b/],
  ['an Nx target', /(?:^|[\s;&|(`'"])(?:npx\s+)?nx\s/],
  ['tools/release_local.sh (Nx targets)', /release_local\.sh\b/],
];

/**
 * SLSA Build L3's isolation, as the issue asks it: no job that holds
 * GPG_PRIVATE_KEY or GPG_PASSPHRASE (in any step, or workflow-wide) runs
 * `npm ci` or an Nx target in any of its steps.
 */
export function signingJobProblems(text: string): string[] {
  const problems: string[] = [];
  const everywhere = HOLDS_SIGNING_SECRET.test(text.slice(0, text.search(/^jobs:/m)));
  for (const [job, block] of jobBlocks(text)) {
    if (!everywhere && !HOLDS_SIGNING_SECRET.test(block)) continue;
    for (const c of jobCommands(job, block)) {
      const hit = BUILD_COMMANDS.find(([, re]) => re.test(c));
      if (hit) problems.push(`job ${job} holds a signing secret and runs ${hit[0]}: ${JSON.stringify(c)}`);
    }
  }
  return problems;
}

/**
 * patch-train.yml: a weekly schedule, a pull_request dry run, a
 * workflow_dispatch with base_tag and reason; the versions come from
 * tools/next_patch_version.sh (with --base for the emergency path); a job
 * that runs code of this repository names no secret and writes nothing; the
 * job that names a secret (the tag token) runs no code of this repository,
 * never on a pull request, and is the only one that creates a tag.
 */
export function patchTrainProblems(text: string): string[] {
  const problems: string[] = [];
  const on = text.slice(text.search(/^on:/m), text.search(/^(?:permissions|concurrency|jobs):/m));
  if (!/^ {2}schedule:\s*\n\s+- cron:\s*["']?\S+ \S+ \S+ \S+ [0-7]["']?\s*$/m.test(on)) problems.push('no weekly schedule (a cron with a day of the week)');
  if (!/^ {2}pull_request:/m.test(on)) problems.push('no pull_request trigger (the dry run)');
  if (!/^ {2}workflow_dispatch:\s*\n {4}inputs:[\s\S]*^ {6}base_tag:[\s\S]*^ {6}reason:/m.test(on)) problems.push('no workflow_dispatch with the inputs base_tag and reason (the emergency release)');
  const top = workflowPermissions(text);
  if (!top || top['*'] || Object.values(top).some((l) => l !== 'read')) problems.push(`the workflow-wide permissions are not read-only: ${JSON.stringify(top)}`);
  const commands = [...jobBlocks(text)].flatMap(([job, block]) => jobCommands(job, block));
  if (!commands.some((c) => /^tools\/next_patch_version\.sh --base "\$BASE_TAG"/.test(c))) problems.push('the emergency path does not compute its version with tools/next_patch_version.sh --base');
  if (!commands.some((c) => /(?:^|\)\s*)tools\/next_patch_version\.sh (?!.*--base)/.test(c))) problems.push('the train does not compute its version with tools/next_patch_version.sh');
  // A tag build stops unless the tag names release.config.ts's version: every call says whether to bump it.
  if (commands.some((c) => /tools\/next_patch_version\.sh/.test(c) && !/--config release\.config\.ts\b/.test(c))) problems.push('a call of tools/next_patch_version.sh without --config release.config.ts');
  if (!/needs\.plan\.outputs\.bump/.test(text)) problems.push('the tag job does not read whether to bump release.config.ts');
  for (const [job, block] of jobBlocks(text)) {
    const perms = jobPermissions(block) ?? top;
    const secret = /\bsecrets\./.test(block);
    const project = runsProjectCode(job, block);
    const tags = jobCommands(job, block).some((c) => /git\/refs|git\/tags|\bgit\s+(?:push|tag\s+-[asf])/.test(c));
    if (Object.entries(perms ?? {}).some(([, level]) => level === 'write' || level === 'write-all')) problems.push(`job ${job} has a write permission: ${JSON.stringify(perms)}`);
    if (project && secret) problems.push(`job ${job} runs code of this repository and names a secret`);
    if ((secret || tags) && !/^ {4}if:.*github\.event_name != 'pull_request'/m.test(block)) problems.push(`job ${job} (a secret or a tag) also runs on pull requests`);
    if (tags && project) problems.push(`job ${job} creates a tag and runs code of this repository`);
  }
  return problems;
}

describe('every workflow is valid and pinned', () => {
  const actionlint = toolchainPaths(ROOT).actionlint;
  const hint = 'run `npx nx run release:toolchain --dev` to build it';

  /** Fails (never skips) when the pinned actionlint is not provisioned. */
  function requireActionlint(): void {
    const pinned = readPins(ROOT).actionlint?.version;
    expect(pinned, 'tools/toolchain/pins.json has no actionlint pin').toBeDefined();
    if (!existsSync(actionlint)) expect.fail(`actionlint is not provisioned at ${actionlint}; ${hint}`);
    const version = run(actionlint, ['-version'], ROOT).stdout.split('\n')[0]?.trim();
    if (version !== `v${pinned!.replace(/^v/, '')}`) expect.fail(`${actionlint} is actionlint ${version}, the pin is ${pinned}; ${hint}`);
  }

  // shellcheck and pyflakes are off: whether they are installed must not change the result.
  const lint = (file: string) => run(actionlint, ['-no-color', '-shellcheck=', '-pyflakes=', file], scratch);

  it('the workflows are release.yml and patch-train.yml (each one below is checked)', () => {
    expect([...workflows.keys()]).toEqual(expect.arrayContaining(['release.yml', 'patch-train.yml']));
  });

  it('actionlint passes on every file of .github/workflows', () => {
    requireActionlint();
    for (const name of workflows.keys()) {
      const result = lint(join(WORKFLOW_DIR, name));
      expect(result.stdout + result.stderr, name).toBe('');
      expect(result.status, name).toBe(0);
    }
  });

  it('actionlint fails on broken copies of the workflows', async () => {
    requireActionlint();
    const broken: { file: string; name: string; from: string; to: string; expect: RegExp }[] = [
      { file: 'release.yml', name: 'needs-unknown-job', from: 'needs: build', to: 'needs: no-such-job', expect: /needs job "no-such-job" which does not exist.*\[job-needs\]/ },
      { file: 'release.yml', name: 'unknown-runs-on-expression', from: 'runs-on: ${{ matrix.os }}', to: 'runs-on: ${{ matrix.platform }}', expect: /property "platform" is not defined.*\[expression\]/ },
      { file: 'release.yml', name: 'yaml-syntax-error', from: 'jobs:\n', to: 'jobs:\n  bad: [\n', expect: /could not parse as YAML.*\[syntax-check\]/ },
      { file: 'release.yml', name: 'unknown-permission', from: '      attestations: write\n', to: '      attestation: write\n', expect: /unknown permission scope "attestation".*\[permissions\]/ },
      { file: 'patch-train.yml', name: 'train-needs-unknown-job', from: 'needs: plan', to: 'needs: no-such-job', expect: /needs job "no-such-job" which does not exist.*\[job-needs\]/ },
      { file: 'patch-train.yml', name: 'train-unknown-input', from: '${{ inputs.base_tag }}', to: '${{ inputs.base_tags }}', expect: /property "base_tags" is not defined.*\[expression\]/ },
      { file: 'patch-train.yml', name: 'train-bad-cron', from: '"17 6 * * 2"', to: '"17 6 * * 9"', expect: /invalid CRON format.*\[events\]/ },
    ];
    for (const b of broken) {
      const original = workflows.get(b.file)!;
      const text = original.replace(b.from, b.to);
      expect(text, b.name).not.toBe(original);
      const dir = join(scratch, `broken-${b.name}`, '.github', 'workflows');
      await mkdir(dir, { recursive: true });
      const file = join(dir, b.file);
      await writeFile(file, text);
      const result = lint(file);
      expect(result.status, `${b.name}: ${result.stdout}${result.stderr}`).toBe(1);
      expect(result.stdout + result.stderr, b.name).toMatch(b.expect);
    }
  });

  it('pins every action of every workflow to a full commit SHA with a # vX.Y.Z comment', () => {
    for (const [name, text] of workflows) {
      const uses = text.split('\n').filter((l) => /^\s*(?:-\s+)?uses:/.test(l));
      expect(uses.length, name).toBeGreaterThan(0);
      expect(unpinnedUses(text), name).toEqual([]);
    }
    expect(workflows.get('release.yml')).toMatch(/uses: actions\/attest-build-provenance@[0-9a-f]{40} # v\d+\.\d+\.\d+\n/);
    // The check itself rejects a tag, a short SHA and a missing version comment.
    expect(
      unpinnedUses(
        [
          '      - uses: actions/checkout@v4',
          '      - uses: actions/checkout@3d3c42e # v7.0.1',
          '      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1',
          '        uses: actions/attest-build-provenance@v4.1.0',
        ].join('\n'),
      ),
    ).toHaveLength(4);
    const unpinnedTrain = workflows.get('patch-train.yml')!.replace(/actions\/checkout@[0-9a-f]{40} # v[\d.]+/, 'actions/checkout@v7');
    expect(unpinnedUses(unpinnedTrain)).toEqual(['      - uses: actions/checkout@v7']);
  });
});

describe('GitHub artifact attestations (release.yml job attest)', () => {
  it('one job attests, with subjects from SHA256SUMS.txt, and it alone holds id-token / attestations write', () => {
    expect(attestationProblems(workflow, true)).toEqual([]);
    const attest = jobBlocks(workflow).get('attest')!;
    expect(jobPermissions(attest)).toEqual({ contents: 'read', 'id-token': 'write', attestations: 'write' });
    for (const [name, text] of workflows) if (name !== 'release.yml') expect(attestationProblems(text, false), name).toEqual([]);
  });

  it('reports subjects from elsewhere, the permissions on another job or workflow-wide, and project code beside the token', () => {
    const subjectPath = workflow.replace(/subject-checksums: \$\{\{ runner\.temp \}\}\/release\/SHA256SUMS\.txt/, 'subject-path: dist/release/*.zip');
    expect(subjectPath).not.toBe(workflow);
    expect(attestationProblems(subjectPath, true)).toEqual([
      'job attest: the attestation does not take its subjects from SHA256SUMS.txt (subject-checksums)',
      'job attest: the attestation names subjects besides SHA256SUMS.txt',
    ]);
    const otherSums = workflow.replace('/release/SHA256SUMS.txt\n', '/release/BUILD_META.txt\n');
    expect(otherSums).not.toBe(workflow);
    expect(attestationProblems(otherSums, true)).toEqual(['job attest: the attestation does not take its subjects from SHA256SUMS.txt (subject-checksums)']);
    const buildToo = workflow.replace(/(\n  publish:\n[\s\S]*?\n    permissions:\n      contents: write\n)/, '$1      id-token: write\n');
    expect(buildToo).not.toBe(workflow);
    expect(attestationProblems(buildToo, true)).toEqual(['job publish has id-token or attestations write but does not attest']);
    const topLevel = workflow.replace(/^permissions:\n  contents: read\n/m, 'permissions:\n  contents: read\n  id-token: write\n');
    expect(topLevel).not.toBe(workflow);
    expect(attestationProblems(topLevel, true)).toEqual(['the workflow-wide permissions grant id-token or attestations write']);
    const noOwnPerms = workflow.replace(/(\n  attest:\n[\s\S]*?)      attestations: write\n/, '$1');
    expect(attestationProblems(noOwnPerms, true)).toEqual(['job attest attests without its own id-token: write and attestations: write']);
    const moreWrite = workflow.replace(/(\n  attest:\n[\s\S]*?)      contents: read\n/, '$1      contents: write\n');
    expect(attestationProblems(moreWrite, true)).toEqual([expect.stringMatching(/^job attest, which can mint an OIDC token, has more: /)]);
    const checkout = workflow.replace(/(\n  attest:\n[\s\S]*?\n    steps:\n)/, '$1      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1\n      - run: npm ci\n');
    expect(attestationProblems(checkout, true)).toEqual(['job attest, which can mint an OIDC token, runs code of this repository']);
    const none = workflow.replace(/\n  attest:\n[\s\S]*$/, '\n');
    expect(attestationProblems(none, true)).toEqual(['expected one job that attests, found 0']);
  });
});

/**
 * Authenticode (docs/os-signing.md): no PFX (a certificate issued since June 2023 has its
 * key in an HSM or a signing service); the signing step is opt-in through a repository
 * variable, runs on Windows only, and alone holds the signing service's credentials.
 */
export function windowsSigningProblems(text: string): string[] {
  const problems: string[] = [];
  if (/PFX_BASE64|\.pfx\b[^\n]*\/p\s|signtool[^\n]*\s\/f\s/i.test(text.replace(/^\s*#.*$/gm, ''))) problems.push('the workflow signs with a PFX file');
  const build = jobBlocks(text).get('build') ?? '';
  const steps = stepBlocks(build).filter((st) => /signtool(?:\.exe)?\b/.test(st) && /\bsign\b/.test(st));
  if (steps.length !== 1) problems.push(`expected one Authenticode step in job build, found ${steps.length}`);
  for (const st of steps) {
    if (!/^\s+if: \$\{\{ runner\.os == 'Windows' && vars\.[A-Z_]+ != '' \}\}$/m.test(st)) problems.push('the Authenticode step is not opt-in through a repository variable (Windows only)');
    if (!/\/dlib\b|pkcs11/i.test(st)) problems.push('the Authenticode step signs through neither a cloud signing dlib nor PKCS#11');
  }
  const credentials = /\bsecrets\.AZURE_[A-Z_]+/g;
  const outside = stepBlocks(build).filter((st) => !steps.includes(st)).join('') + build.split(/\n {4}steps:/)[0]!;
  if (credentials.test(outside)) problems.push('a signing-service credential reaches more than the Authenticode step');
  return problems;
}

describe('Authenticode through a signing service, opt-in (docs/os-signing.md)', () => {
  it('holds: no PFX; one Windows-only step gated on a repository variable, signing through the dlib, holding the credentials', () => {
    expect(windowsSigningProblems(workflow)).toEqual([]);
  });

  it('reports a PFX, a step that is always on, and the credentials at job level', () => {
    const pfx = workflow.replace('/dlib $dlib /dmdf $metadata', '/f $env:RUNNER_TEMP\\a.pfx /p $env:PFX_PASSWORD');
    expect(pfx).not.toBe(workflow);
    expect(windowsSigningProblems(pfx)).toEqual(['the workflow signs with a PFX file', 'the Authenticode step signs through neither a cloud signing dlib nor PKCS#11']);
    const always = workflow.replace("if: ${{ runner.os == 'Windows' && vars.AZURE_TRUSTED_SIGNING_ENDPOINT != '' }}", "if: ${{ runner.os == 'Windows' }}");
    expect(always).not.toBe(workflow);
    expect(windowsSigningProblems(always)).toEqual(['the Authenticode step is not opt-in through a repository variable (Windows only)']);
    const jobLevel = workflow.replace(/(\n  build:\n[\s\S]*?\n    env:\n)/, '$1      AZURE_CLIENT_SECRET: ${{ secrets.AZURE_CLIENT_SECRET }}\n');
    expect(jobLevel).not.toBe(workflow);
    expect(windowsSigningProblems(jobLevel)).toEqual(['a signing-service credential reaches more than the Authenticode step']);
  });
});

describe('no job that holds the release signing key runs npm ci or an Nx target (issue 16, item 4)', () => {
  it('the check reads what it means: release_local.sh runs Nx targets', () => {
    expect(readFileSync(RELEASE_LOCAL, 'utf8')).toMatch(/^\s*npx nx run "release:sign"/m);
  });

  // KNOWN GAP until issue 16 item 4 lands: release.yml's publish job runs npm ci and
  // tools/release_local.sh (Nx targets) in the job whose sign step holds the key. The
  // list is exact: a new violation, or one fixed, changes it (then update it, or make
  // this `toEqual([])` the day the job is split).
  it('fails today for exactly the three build commands of job publish in release.yml (issue 16, item 4)', () => {
    expect(signingJobProblems(workflow)).toEqual([
      'job publish holds a signing secret and runs npm ci or install: "npm ci"',
      'job publish holds a signing secret and runs tools/release_local.sh (Nx targets): "tools/release_local.sh --no-sign artifacts/*.zip"',
      'job publish holds a signing secret and runs tools/release_local.sh (Nx targets): "tools/release_local.sh --sign-only"',
    ]);
  });

  it('holds for every workflow but release.yml, and in release.yml for every job but publish', () => {
    for (const [name, text] of workflows) {
      const problems = signingJobProblems(text);
      expect(name === 'release.yml' ? problems.filter((p) => !p.startsWith('job publish ')) : problems, name).toEqual([]);
    }
  });

  it('reports npm ci, an Nx target, an npm script and release_local.sh in a job with the key, and a key given workflow-wide', () => {
    const job = (steps: string, secretAt: 'step' | 'none' = 'step') =>
      [
        'on: push',
        'jobs:',
        '  sign:',
        '    runs-on: ubuntu-24.04',
        '    steps:',
        '      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1',
        ...steps.split('\n').map((l) => `      ${l}`),
        '      - name: sign',
        ...(secretAt === 'step' ? ['        env:', '          GPG_PRIVATE_KEY: ${{ secrets.GPG_PRIVATE_KEY }}'] : []),
        '        run: gpg --batch --detach-sign SHA256SUMS.txt',
        '',
      ].join('\n');
    expect(signingJobProblems(job('- run: sha256sum -c SHA256SUMS.txt'))).toEqual([]);
    expect(signingJobProblems(job('- run: npm ci'))).toEqual(['job sign holds a signing secret and runs npm ci or install: "npm ci"']);
    expect(signingJobProblems(job('- run: npx nx run release:sign'))).toEqual(['job sign holds a signing secret and runs an Nx target: "npx nx run release:sign"']);
    expect(signingJobProblems(job('- run: |\n    set -e\n    nx run-many -t sbom'))).toEqual(['job sign holds a signing secret and runs an Nx target: "nx run-many -t sbom"']);
    expect(signingJobProblems(job('- run: npm test'))).toEqual(['job sign holds a signing secret and runs an npm script: "npm test"']);
    expect(signingJobProblems(job('- run: npm run build'))).toEqual(['job sign holds a signing secret and runs an npm script: "npm run build"']);
    expect(signingJobProblems(job('- run: tools/release_local.sh --sign-only'))).toEqual(['job sign holds a signing secret and runs tools/release_local.sh (Nx targets): "tools/release_local.sh --sign-only"']);
    // Without the key the same steps are fine; a key given workflow-wide reaches every job.
    expect(signingJobProblems(job('- run: npm ci', 'none'))).toEqual([]);
    const wide = job('- run: npm ci', 'none').replace('jobs:\n', 'env:\n  GPG_PASSPHRASE: ${{ secrets.GPG_PASSPHRASE }}\njobs:\n');
    expect(signingJobProblems(wide)).toEqual(['job sign holds a signing secret and runs npm ci or install: "npm ci"']);
    // On the real workflow: its build job runs npm ci; given the key, it is reported.
    const keyInBuild = workflow.replace(/(\n  build:\n[\s\S]*?\n    env:\n)/, '$1      GPG_PASSPHRASE: ${{ secrets.GPG_PASSPHRASE }}\n');
    expect(keyInBuild).not.toBe(workflow);
    expect(signingJobProblems(keyInBuild).filter((p) => p.startsWith('job build '))).toEqual(expect.arrayContaining(['job build holds a signing secret and runs npm ci or install: "npm ci"']));
  });
});

describe('the patch train and the emergency security release (patch-train.yml)', () => {
  let train: string;
  beforeAll(() => {
    train = workflows.get('patch-train.yml')!;
  });

  it('holds: weekly, dry run on pull requests, dispatch with base tag and reason, versions from tools/next_patch_version.sh, secrets away from project code', () => {
    expect(patchTrainProblems(train)).toEqual([]);
    expect(existsSync(join(ROOT, 'tools', 'next_patch_version.sh'))).toBe(true);
    const jobs = jobBlocks(train);
    expect([...jobs.keys()]).toEqual(['plan', 'tag']);
    expect(jobPermissions(jobs.get('plan')!)).toEqual({ contents: 'read' });
    expect(jobPermissions(jobs.get('tag')!)).toEqual({});
  });

  it('reports a secret beside the project code, a tag job on pull requests or with a checkout, a write permission, and missing triggers', () => {
    const cases: { name: string; from: string | RegExp; to: string; expect: string[] }[] = [
      { name: 'secret in plan', from: '          REASON: ${{ inputs.reason }}\n        run: |\n          set -euo pipefail\n          case', to: '          REASON: ${{ inputs.reason }}\n          GH_TOKEN: ${{ secrets.RELEASE_TAG_TOKEN }}\n        run: |\n          set -euo pipefail\n          case', expect: ['job plan runs code of this repository and names a secret', 'job plan (a secret or a tag) also runs on pull requests'] },
      { name: 'tag on pull requests', from: "github.event_name != 'pull_request' && ", to: '', expect: ['job tag (a secret or a tag) also runs on pull requests'] },
      { name: 'checkout in tag', from: /(\n  tag:\n[\s\S]*?\n    steps:\n)/, to: '$1      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1\n', expect: ['job tag runs code of this repository and names a secret', 'job tag creates a tag and runs code of this repository'] },
      { name: 'write permission', from: '    permissions:\n      contents: read\n', to: '    permissions:\n      contents: write\n', expect: ['job plan has a write permission: {"contents":"write"}'] },
      { name: 'no schedule', from: /  schedule:\n    - cron: "[^"]+"\n/, to: '', expect: ['no weekly schedule (a cron with a day of the week)'] },
      { name: 'daily, not weekly', from: '"17 6 * * 2"', to: '"17 6 * * *"', expect: ['no weekly schedule (a cron with a day of the week)'] },
      { name: 'no dry run', from: '  pull_request:\n', to: '', expect: ['no pull_request trigger (the dry run)'] },
      { name: 'no reason', from: /      reason:\n[\s\S]*?type: string\n/, to: '', expect: ['no workflow_dispatch with the inputs base_tag and reason (the emergency release)'] },
      { name: 'write-all', from: 'permissions: {}\n', to: 'permissions: write-all\n', expect: ['the workflow-wide permissions are not read-only: {"*":"write-all"}'] },
      { name: 'version by hand', from: 'tools/next_patch_version.sh --base "$BASE_TAG" --config release.config.ts HEAD', to: 'echo "next=$BASE_TAG-fix"', expect: ['the emergency path does not compute its version with tools/next_patch_version.sh --base'] },
      { name: 'no --config', from: 'tools/next_patch_version.sh --config release.config.ts HEAD', to: 'tools/next_patch_version.sh HEAD', expect: ['a call of tools/next_patch_version.sh without --config release.config.ts'] },
      { name: 'bump ignored', from: '          BUMP: ${{ needs.plan.outputs.bump }}\n', to: '', expect: ['the tag job does not read whether to bump release.config.ts'] },
    ];
    for (const c of cases) {
      const text = train.replace(c.from, c.to);
      expect(text, c.name).not.toBe(train);
      expect(patchTrainProblems(text), c.name).toEqual(c.expect);
    }
  });
});

/**
 * The independent rebuild (issue 15, item 4): publish creates the release as
 * a draft and hands the signed folder on; job reproduce, which needs it,
 * holds no secret and no write permission and runs `helix-release reproduce`
 * with a fingerprint; job finalize, which needs reproduce, runs no code of
 * this repository, checks that the statement says PASSED, attaches it, and
 * is the only job that takes the release out of draft.
 */
export function reproductionProblems(text: string): string[] {
  const problems: string[] = [];
  const jobs = jobBlocks(text);
  const publish = jobs.get('publish') ?? '';
  const reproduce = jobs.get('reproduce');
  const finalize = jobs.get('finalize');
  if (!jobCommands('publish', publish).some((c) => /gh release create\b.*--draft\b/.test(c))) problems.push('job publish does not create the release as a draft');
  if (!reproduce) problems.push('no job reproduce');
  else {
    if (!/^ {4}needs:\s*\[?[^\n]*\bpublish\b/m.test(reproduce)) problems.push('job reproduce does not need publish');
    if (/\bsecrets\./.test(reproduce)) problems.push('job reproduce holds a secret');
    if (Object.values(jobPermissions(reproduce) ?? { '*': 'inherited' }).some((l) => l !== 'read')) problems.push(`job reproduce may write: ${JSON.stringify(jobPermissions(reproduce) ?? 'the workflow\'s permissions')}`);
    if (!jobCommands('reproduce', reproduce).some((c) => /\bhelix-release reproduce\b.*--fingerprint\s/.test(c))) problems.push('job reproduce does not run helix-release reproduce --fingerprint');
  }
  if (!finalize) problems.push('no job finalize');
  else {
    if (!/^ {4}needs:\s*\[[^\]]*\breproduce\b/m.test(finalize) && !/^ {4}needs:\s*reproduce\s*$/m.test(finalize)) problems.push('job finalize does not need reproduce');
    if (runsProjectCode('finalize', finalize)) problems.push('job finalize, which holds the write token, runs code of this repository');
    const commands = jobCommands('finalize', finalize);
    if (!commands.some((c) => /verificationResult == "PASSED"/.test(c))) problems.push('job finalize does not check that the statement says PASSED');
    if (!commands.some((c) => /gh release upload\b.*\$statement|gh release upload\b.*reproduction\.intoto\.json/.test(c))) problems.push('job finalize does not attach the statement');
  }
  for (const [job, block] of jobs) {
    if (job !== 'finalize' && jobCommands(job, block).some((c) => /gh release (?:edit\b.*--draft=false|create\b(?!.*--draft))/.test(c))) problems.push(`job ${job} publishes the release before the rebuild passed`);
  }
  return problems;
}

describe('the independent rebuild before a release is published (issue 15, item 4)', () => {
  it('holds: a draft, rebuilt by a job without secrets or write, published by a job without project code once the statement says PASSED', () => {
    expect(reproductionProblems(workflow)).toEqual([]);
  });

  it('reports a release published at once, a rebuild holding a secret or a write token, and a finalize job running project code or skipping the check', () => {
    const notDraft = workflow.replace('--verify-tag --draft --title', '--verify-tag --title');
    expect(notDraft).not.toBe(workflow);
    expect(reproductionProblems(notDraft)).toEqual(['job publish does not create the release as a draft', 'job publish publishes the release before the rebuild passed']);
    const secret = workflow.replace('RELEASE_KEY_FINGERPRINT: ${{ vars.RELEASE_KEY_FINGERPRINT }}', 'RELEASE_KEY_FINGERPRINT: ${{ secrets.GPG_PUBLIC_KEY_FINGERPRINT }}');
    expect(secret).not.toBe(workflow);
    expect(reproductionProblems(secret)).toEqual(['job reproduce holds a secret']);
    const writes = workflow.replace(/(\n  reproduce:\n[\s\S]*?\n    permissions:\n      contents: )read/, '$1write');
    expect(writes).not.toBe(workflow);
    expect(reproductionProblems(writes)).toEqual(['job reproduce may write: {"contents":"write"}']);
    const checkout = workflow.replace(/(\n  finalize:\n[\s\S]*?\n    steps:\n)/, '$1      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1\n');
    expect(reproductionProblems(checkout)).toEqual(['job finalize, which holds the write token, runs code of this repository']);
    const unchecked = workflow.replace('.predicate.verificationResult == "PASSED" and ', '');
    expect(unchecked).not.toBe(workflow);
    expect(reproductionProblems(unchecked)).toEqual(['job finalize does not check that the statement says PASSED']);
    const early = workflow.replace(/(\n  publish:\n[\s\S]*?)(\n      - name: Hand the signed release folder)/, '$1\n      - run: gh release edit "$TAG" --draft=false$2');
    expect(early).not.toBe(workflow);
    expect(reproductionProblems(early)).toEqual(['job publish publishes the release before the rebuild passed']);
    const none = workflow.replace(/\n  reproduce:\n[\s\S]*?(?=\n  # Publishes the draft)/, '\n');
    expect(none).not.toBe(workflow);
    expect(reproductionProblems(none)).toEqual(['no job reproduce']);
  });
});
