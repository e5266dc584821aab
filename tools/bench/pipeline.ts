/**
 * npm run bench:pipeline: what a run of the release costs on a built copy of
 * this workspace, for 2 (the sample's own), 10 and 50 plugins (BENCH_PLUGINS=2,10
 * to choose; the conformance pack needs the sample's two, so 2 is the least):
 *
 *   cold           `release:all` with an empty Nx cache (the toolchain present)
 *   warm           the same again, nothing changed
 *   plugin commit  one plugin's source changed and committed a day later
 *   app commit     one Studio source changed and committed a day later
 *
 * each as a ratio to cold, warm also as a ratio to `nx show projects` in an
 * empty Nx workspace, with the tasks that ran (not from the cache). Figures and
 * samples go to dist/bench/pipeline.json. The copies live under os.tmpdir() and
 * are removed at the end.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const NX = join(ROOT, 'node_modules', 'nx', 'dist', 'bin', 'nx.js');
const START = 1_767_323_045; // the first commit's time; later commits are a day apart
const env: NodeJS.ProcessEnv = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', FORCE_COLOR: '0', CI: 'true' };
for (const secret of ['GPG_PRIVATE_KEY', 'GPG_PASSPHRASE', 'GPG_PUBLIC_KEY_FINGERPRINT', 'HELIX_PLUGIN_SIGNING_KEY', 'SOURCE_DATE_EPOCH']) delete env[secret];

function git(cwd: string, when: number, ...args: string[]): void {
  const date = `@${when} +0000`;
  execFileSync('git', args, { cwd, stdio: 'pipe', env: { ...env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@helix-release.invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@helix-release.invalid', GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } });
}

/** A copy of the repository's files (as git sees them) with `plugins` generated plugins, committed once. */
function workspace(parent: string, plugins: number): string {
  const ws = join(parent, `ws-${plugins}`);
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const rel of files) {
    mkdirSync(dirname(join(ws, rel)), { recursive: true });
    try {
      cpSync(join(ROOT, rel), join(ws, rel));
    } catch {
      /* deleted in the working tree */
    }
  }
  symlinkSync(join(ROOT, 'node_modules'), join(ws, 'node_modules'));
  mkdirSync(join(ws, '.helix'));
  symlinkSync(join(ROOT, '.helix', 'toolchain'), join(ws, '.helix', 'toolchain'));
  // The sample has two plugins; generated ones copy hello under another name.
  for (let i = 2; i < plugins; i++) {
    const dir = join(ws, 'workspace-fixtures', 'plugins', `gen${i}`);
    cpSync(join(ws, 'workspace-fixtures', 'plugins', 'hello'), dir, { recursive: true });
    const meta = JSON.parse(readFileSync(join(dir, 'plugin.json'), 'utf8')) as Record<string, string>;
    writeFileSync(join(dir, 'plugin.json'), `${JSON.stringify({ ...meta, name: `gen${i}` }, null, 2)}\n`);
  }
  git(ws, START, 'init', '-q', '-b', 'main');
  git(ws, START, 'add', '-A');
  git(ws, START, 'commit', '-q', '-m', 'bench');
  return ws;
}

interface Sample {
  seconds: number;
  ran: string[];
  cached: number;
}

function timed(cwd: string, args: string[]): Sample {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [NX, ...args], { cwd, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const output = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`nx ${args.join(' ')} failed in ${cwd}:\n${output.slice(-4000)}`);
  const tasks = [...output.matchAll(/^> nx run (\S+)(.*)$/gm)];
  return { seconds, ran: tasks.filter((m) => !/cache/.test(m[2]!)).map((m) => m[1]!).sort(), cached: tasks.filter((m) => /cache/.test(m[2]!)).length };
}

function appendLine(file: string, line: string): void {
  writeFileSync(file, `${readFileSync(file, 'utf8')}\n${line}\n`);
}

function main(): void {
  const counts = (process.env['BENCH_PLUGINS'] ?? '2,10,50').split(',').map(Number);
  const parent = mkdtempSync(join(tmpdir(), 'helix-bench-pipeline-'));
  const cleanup = () => rmSync(parent, { recursive: true, force: true });
  process.on('SIGINT', () => (cleanup(), process.exit(130)));
  try {
    // Nx's own start-up in an empty workspace: the floor a warm run can reach.
    const empty = join(parent, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'package.json'), '{ "name": "empty", "private": true }\n');
    writeFileSync(join(empty, 'nx.json'), '{ "analytics": false, "neverConnectToCloud": true }\n');
    symlinkSync(join(ROOT, 'node_modules'), join(empty, 'node_modules'));
    git(empty, START, 'init', '-q', '-b', 'main');
    const emptyShow = Math.min(...[0, 1, 2].map(() => timed(empty, ['show', 'projects']).seconds));
    const results: Record<string, unknown>[] = [];
    for (const plugins of counts) {
      const ws = workspace(parent, plugins);
      const showProjects = Math.min(...[0, 1, 2].map(() => timed(ws, ['show', 'projects']).seconds));
      const cold = timed(ws, ['run', 'release:all']);
      const warm = timed(ws, ['run', 'release:all']);
      appendLine(join(ws, 'workspace-fixtures/plugins/hello/hello_plugin.py'), '# bench: a plugin edit');
      git(ws, START + 86_400, 'commit', '-q', '-am', 'bench: plugin');
      const pluginCommit = timed(ws, ['run', 'release:all']);
      appendLine(join(ws, 'workspace-fixtures/studio/src/helix_studio/cli.py'), '# bench: an app edit');
      git(ws, START + 2 * 86_400, 'commit', '-q', '-am', 'bench: app');
      const appCommit = timed(ws, ['run', 'release:all']);
      const row = { plugins, emptyShowProjects: emptyShow, showProjects, cold, warm, pluginCommit, appCommit };
      results.push(row);
      const ratio = (s: Sample) => (s.seconds / cold.seconds).toFixed(2);
      process.stdout.write(
        [
          `\n## ${plugins} plugin(s): nx show projects ${showProjects.toFixed(2)} s (empty workspace ${emptyShow.toFixed(2)} s)`,
          `cold           ${cold.seconds.toFixed(1)} s  1.00x cold   ran ${cold.ran.length}`,
          `warm           ${warm.seconds.toFixed(1)} s  ${ratio(warm)}x cold, ${(warm.seconds / emptyShow).toFixed(1)}x empty nx show projects   ran ${warm.ran.join(' ')}`,
          `plugin commit  ${pluginCommit.seconds.toFixed(1)} s  ${ratio(pluginCommit)}x cold   ran ${pluginCommit.ran.join(' ')}`,
          `app commit     ${appCommit.seconds.toFixed(1)} s  ${ratio(appCommit)}x cold   ran ${appCommit.ran.join(' ')}`,
          '',
        ].join('\n'),
      );
      rmSync(ws, { recursive: true, force: true });
    }
    mkdirSync(join(ROOT, 'dist', 'bench'), { recursive: true });
    writeFileSync(join(ROOT, 'dist', 'bench', 'pipeline.json'), `${JSON.stringify({ node: process.versions.node, results }, null, 2)}\n`);
  } finally {
    cleanup();
  }
}

main();
