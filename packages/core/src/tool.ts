/**
 * Runs external tools (python, pip, PyInstaller, uv, syft, git, gpg) with
 * errors that say which tool failed and what to do, and with release secrets
 * removed from the child's environment.
 */
import { execa } from 'execa';
import { ReleaseError } from './errors';

/** Environment variables that hold release secrets; no child process ever sees them. */
export const SECRET_ENV_VARS = ['GPG_PRIVATE_KEY', 'GPG_PASSPHRASE', 'HELIX_PLUGIN_SIGNING_KEY', 'HELIX_RECORD_KEY'] as const;

/** What to run. */
export interface ToolInvocation {
  /** Executable name or path. */
  command: string;
  args: readonly string[];
  cwd?: string;
  /** Added to (or, with `inheritEnv: false`, replacing) the parent's environment. */
  env?: Record<string, string | undefined>;
  /** Default true. */
  inheritEnv?: boolean;
  /** Text fed to stdin. */
  input?: string;
  /** Kill after this many milliseconds. */
  timeoutMs?: number;
  /** What to tell the user when the executable is not found. */
  installHint?: string;
  /** Exit codes that count as success; default [0]. */
  okExitCodes?: readonly number[];
  /** Stream the tool's output to ours as it runs (long builds); default false. */
  streamOutput?: boolean;
  /**
   * Secret variables this invocation is meant to hand on, when `env` itself
   * sets them (never one inherited from this process): e.g. the throwaway
   * plugin key of a reproduction. Every other secret is removed.
   */
  passSecrets?: readonly (typeof SECRET_ENV_VARS)[number][];
}

/** The captured result of a tool run. */
export interface ToolResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

function childEnv(inv: ToolInvocation): Record<string, string | undefined> {
  const base: Record<string, string | undefined> = inv.inheritEnv === false ? {} : { ...process.env };
  const env = { ...base, ...inv.env };
  for (const name of SECRET_ENV_VARS) {
    if (!(inv.passSecrets?.includes(name) && inv.env?.[name] !== undefined)) delete env[name];
  }
  return env;
}

function tail(text: string, lines = 25): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** Runs a tool to completion; throws TOOL_NOT_FOUND or TOOL_FAILED. */
export async function runTool(inv: ToolInvocation): Promise<ToolResult> {
  const result = await execa(inv.command, [...inv.args], {
    cwd: inv.cwd,
    env: childEnv(inv),
    extendEnv: false,
    input: inv.input,
    timeout: inv.timeoutMs,
    reject: false,
    stripFinalNewline: false,
    stdin: inv.input === undefined ? 'ignore' : 'pipe',
    stdout: inv.streamOutput ? ['pipe', 'inherit'] : 'pipe',
    stderr: inv.streamOutput ? ['pipe', 'inherit'] : 'pipe',
    encoding: 'utf8',
  });
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');
  const code = (result as { code?: string }).code;
  if (code === 'ENOENT' || code === 'EACCES') {
    throw new ReleaseError(
      'TOOL_NOT_FOUND',
      `cannot run ${inv.command}${code === 'EACCES' ? ' (not executable)' : ' (not found)'}` +
        (inv.installHint ? `; ${inv.installHint}` : ''),
      { file: inv.command },
    );
  }
  if (result.timedOut) {
    throw new ReleaseError('TOOL_FAILED', `${inv.command} ${inv.args.join(' ')} did not finish within ${inv.timeoutMs} ms`, {
      file: inv.command,
    });
  }
  const exitCode = typeof result.exitCode === 'number' ? result.exitCode : -1;
  if (!(inv.okExitCodes ?? [0]).includes(exitCode)) {
    const why = result.signal ? `was killed by ${result.signal}` : `exited with ${exitCode}`;
    throw new ReleaseError(
      'TOOL_FAILED',
      `${inv.command} ${inv.args.join(' ')} ${why}\n${tail(stderr || stdout)}`,
      { file: inv.command },
    );
  }
  return { stdout, stderr, exitCode };
}
