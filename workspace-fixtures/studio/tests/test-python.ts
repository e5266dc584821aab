/**
 * The Python that runs the Studio's code in tests: a venv in
 * <repo>/.helix/test-venv, made once from the Studio's requirements.txt
 * (hash-checked, wheels only) and remade when requirements.txt changes (stamp:
 * its sha256). The base interpreter is $HELIX_TEST_PYTHON, or python3. The unit
 * project's global setup makes it, so specs that run in parallel never race to.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const STUDIO = resolve(__dirname, '..');
const REPO_ROOT = resolve(STUDIO, '..', '..');
const VENV = join(REPO_ROOT, '.helix', 'test-venv');
const REQUIREMENTS = join(STUDIO, 'requirements.txt');
const STAMP = join(VENV, 'helix-requirements.sha256');
const VENV_PYTHON = process.platform === 'win32' ? join(VENV, 'Scripts', 'python.exe') : join(VENV, 'bin', 'python');

export interface Run {
  code: number | null;
  output: string;
}

export function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, output: Buffer.concat(chunks).toString('utf8') }));
  });
}

async function mustRun(command: string, args: readonly string[]): Promise<void> {
  const result = await run(command, args);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.code}:\n${result.output}`);
}

/** The test venv's python, created (or recreated after a change of requirements.txt) if need be. */
export async function testPython(): Promise<string> {
  const want = createHash('sha256').update(await readFile(REQUIREMENTS)).digest('hex');
  const have = await readFile(STAMP, 'utf8').catch(() => '');
  if (have.trim() === want && existsSync(VENV_PYTHON)) return VENV_PYTHON;
  await rm(VENV, { recursive: true, force: true });
  await mkdir(join(REPO_ROOT, '.helix'), { recursive: true });
  await mustRun(process.env['HELIX_TEST_PYTHON'] || 'python3', ['-m', 'venv', VENV]);
  await mustRun(VENV_PYTHON, [
    '-m',
    'pip',
    'install',
    '--disable-pip-version-check',
    '--no-input',
    '--require-hashes',
    '--only-binary',
    ':all:',
    '-r',
    REQUIREMENTS,
  ]);
  await writeFile(STAMP, `${want}\n`); // last: a half-made venv is remade next time
  return VENV_PYTHON;
}
