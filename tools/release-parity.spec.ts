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
 * - actionlint (built by `npx nx run release:toolchain --dev`) passes on the
 *   workflow and fails on broken copies of it;
 * - every `uses:` is pinned to a full commit SHA with a `# vX.Y.Z` comment.
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
const WORKFLOW = join(ROOT, '.github', 'workflows', 'release.yml');
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
let scratch: string;

beforeAll(async () => {
  config = await loadConfig(ROOT);
  stageTargets = releasePlan(BUILT_IN_STAGES, config, { apps: [], plugins: [] }).stageTargets;
  workflow = await readFile(WORKFLOW, 'utf8');
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
    if (!/NX_SKIP_REMOTE_CACHE: "true"/.test(block)) problems.push(`job ${job} does not set NX_SKIP_REMOTE_CACHE`);
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

describe('the workflow is valid and pinned', () => {
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

  it('actionlint passes on .github/workflows/release.yml', () => {
    requireActionlint();
    const result = lint(WORKFLOW);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('actionlint fails on broken copies of the workflow', async () => {
    requireActionlint();
    const broken: { name: string; from: string; to: string; expect: RegExp }[] = [
      { name: 'needs-unknown-job', from: 'needs: build', to: 'needs: no-such-job', expect: /needs job "no-such-job" which does not exist.*\[job-needs\]/ },
      { name: 'unknown-runs-on-expression', from: 'runs-on: ${{ matrix.os }}', to: 'runs-on: ${{ matrix.platform }}', expect: /property "platform" is not defined.*\[expression\]/ },
      { name: 'yaml-syntax-error', from: 'jobs:\n', to: 'jobs:\n  bad: [\n', expect: /could not parse as YAML.*\[syntax-check\]/ },
    ];
    for (const b of broken) {
      const text = workflow.replace(b.from, b.to);
      expect(text, b.name).not.toBe(workflow);
      const dir = join(scratch, `broken-${b.name}`, '.github', 'workflows');
      await mkdir(dir, { recursive: true });
      const file = join(dir, 'release.yml');
      await writeFile(file, text);
      const result = lint(file);
      expect(result.status, `${b.name}: ${result.stdout}${result.stderr}`).toBe(1);
      expect(result.stdout + result.stderr, b.name).toMatch(b.expect);
    }
  });

  it('pins every action to a full commit SHA with a # vX.Y.Z comment', () => {
    const uses = workflow.split('\n').filter((l) => /^\s*(?:-\s+)?uses:/.test(l));
    expect(uses.length).toBeGreaterThan(0);
    expect(unpinnedUses(workflow)).toEqual([]);
    // The check itself rejects a tag, a short SHA and a missing version comment.
    expect(
      unpinnedUses(
        [
          '      - uses: actions/checkout@v4',
          '      - uses: actions/checkout@3d3c42e # v7.0.1',
          '      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1',
        ].join('\n'),
      ),
    ).toHaveLength(3);
  });
});
