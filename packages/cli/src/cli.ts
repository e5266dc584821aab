/**
 * The `helix-release` command line. Options are parsed by node's own
 * `util.parseArgs` (strict: an unknown option or a missing value is a usage
 * error), and every command and option is described in `--help`.
 *
 * `verify` and `verify-plugin` work offline on published files only.
 * `reproduce` rebuilds a release from its commit (src/reproduce.ts). `import`
 * and `plan` serve tools/release_local.sh. Exit status: 0 when everything
 * passed, 1 when a check or the command failed, 2 on a usage error.
 */
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { describeError, isReleaseError, loadConfig, releasePlan } from '@helix-release/core';
import { BUILT_IN_STAGES } from '@helix-release/nx-plugin/src/lib/stages';
import { formatResult, loadTrustStore, verifyPluginFile, verifyRelease, type CheckResult } from '@helix-release/verify';
import { importArtifacts } from './import';
import { reproduce, signStatement } from './reproduce';

/** A bad command line: exit status 2, with the usage of the command. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** One command: its synopsis, what it does, and its options with their descriptions. */
interface Command {
  synopsis: string;
  summary: string;
  options: Options;
  help: Record<string, string>;
}

const COMMANDS: Record<string, Command> = {
  verify: {
    synopsis: 'verify <release-folder> (--fingerprint FPR | --tofu) [--commit SHA] [--tag TAG] [--trust-store FILE] [--allow-development-key] [--allow-dirty] [--json]',
    summary: 'Run every check of docs/release-format.md over a downloaded release folder, offline.',
    options: {
      fingerprint: { type: 'string' },
      tofu: { type: 'boolean' },
      commit: { type: 'string' },
      tag: { type: 'string' },
      'trust-store': { type: 'string' },
      'allow-development-key': { type: 'boolean' },
      'allow-dirty': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    help: {
      fingerprint: "the signing key's full fingerprint (40 or 64 hex digits), as the project publishes it (not from the release)",
      tofu: 'trust release-signing-key-fingerprint.txt of the release itself (trust on first use)',
      commit: 'the full source commit (40 or 64 hex digits) the release must have been built from',
      tag: 'the tag the release must have been built from',
      'trust-store': "the plugin trust store to check every plugin's SIGNATURE.ed25519 against",
      'allow-development-key': 'accept a release signed with a DEVELOPMENT ONLY key (for testing): a WARN line instead of FAILED',
      'allow-dirty': 'accept a release built from a tree with uncommitted changes: a WARN line instead of FAILED',
      json: 'print the results as a JSON array instead of lines',
    },
  },
  'verify-plugin': {
    synopsis: 'verify-plugin <zip>... --trust-store FILE [--json]',
    summary: 'Check plugin zips against a trust store, as the Studio loader does.',
    options: { 'trust-store': { type: 'string' }, json: { type: 'boolean' } },
    help: { 'trust-store': 'the trust store (helix-trust-store/v1 JSON)', json: 'print the results as a JSON array' },
  },
  reproduce: {
    synopsis: 'reproduce <release-folder> (--fingerprint FPR | --tofu) [--repo URL-OR-PATH] [--allow-toolchain-drift] [--out FILE] [--keep] [--allow-development-key]',
    summary: 'Rebuild a release from the commit its provenance names and compare every file byte for byte; writes reproduction.intoto.json.',
    options: {
      fingerprint: { type: 'string' },
      tofu: { type: 'boolean' },
      repo: { type: 'string' },
      'allow-toolchain-drift': { type: 'boolean' },
      out: { type: 'string' },
      keep: { type: 'boolean' },
      'allow-development-key': { type: 'boolean' },
    },
    help: {
      fingerprint: "the signing key's full fingerprint, as the project publishes it: the release is verified first",
      tofu: 'trust release-signing-key-fingerprint.txt of the release itself (trust on first use)',
      repo: 'the repository holding the commit (default: the git repository of the current folder)',
      'allow-toolchain-drift': "rebuild even when this machine's toolchain differs from the recorded one (a mismatch is then expected)",
      out: 'where the statement goes (default ./reproduction.intoto.json); sign it afterwards with sign-statement',
      keep: 'keep the temporary worktree of the rebuild (its path is printed)',
      'allow-development-key': 'accept a release signed with a DEVELOPMENT ONLY key (for testing)',
    },
  },
  'sign-statement': {
    synopsis: 'sign-statement <file>',
    summary: 'Sign a statement (e.g. reproduction.intoto.json) with the key of GPG_PRIVATE_KEY, GPG_PASSPHRASE and GPG_PUBLIC_KEY_FINGERPRINT: <file>.asc. Starts no tool.',
    options: {},
    help: {},
  },
  import: {
    synopsis: 'import <file>... [--workspace DIR]',
    summary: 'Make the release folder of artifacts built elsewhere (tools/release_local.sh).',
    options: { workspace: { type: 'string' } },
    help: { workspace: 'the Nx workspace (default: the current folder)' },
  },
  plan: {
    synopsis: 'plan [--workspace DIR] [--local]',
    summary: 'Print the stage targets of the release plan, in run order.',
    options: { workspace: { type: 'string' }, local: { type: 'boolean' } },
    help: { workspace: 'the Nx workspace (default: the current folder)', local: "the plan's import variant: what tools/release_local.sh runs" },
  },
};

const COMMON_HELP = { help: 'show this help', version: "print helix-release's version" };

/** The CLI's own version, from its package.json. */
export function version(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** The usage text: every command, or one command with its described options. */
export function usage(command?: string): string {
  const one = command ? COMMANDS[command] : undefined;
  if (one) {
    const width = Math.max(...Object.keys({ ...one.help, ...COMMON_HELP }).map((k) => k.length)) + 2;
    const lines = Object.entries({ ...one.help, ...COMMON_HELP }).map(([name, text]) => `  --${name.padEnd(width)}${text}`);
    return `usage: helix-release ${one.synopsis}\n\n${one.summary}\n\noptions:\n${lines.join('\n')}\n`;
  }
  const list = Object.entries(COMMANDS).map(([, c]) => `  helix-release ${c.synopsis}\n      ${c.summary}`);
  return `usage:\n${list.join('\n')}\n  helix-release --version | --help | <command> --help\n\nExit status: 0 passed, 1 failed, 2 usage error.\n`;
}

/** Parses one command's arguments strictly; unknown options and missing values are usage errors. */
function parse(command: string, args: readonly string[]) {
  try {
    const parsed = parseArgs({ args: [...args], options: { ...COMMANDS[command]!.options, help: { type: 'boolean' }, version: { type: 'boolean' } }, allowPositionals: true, strict: true });
    const values: Record<string, string | boolean | undefined> = parsed.values;
    return { values, positionals: parsed.positionals };
  } catch (err) {
    // parseArgs's messages name the option; drop its advice about "--" (no argument of ours starts with a dash).
    throw new UsageError((err as Error).message.replace(/\.?\s*To specify (?:a positional|an option) argument[^]*$/, ''), command);
  }
}

/** A full hex fingerprint (spaces and a 0x prefix allowed), as the Python tool accepts it. */
function fingerprintOf(value: string): string {
  const fpr = value.replace(/\s+/g, '').replace(/^0x/i, '').toUpperCase();
  if (!/^(?:[0-9A-F]{40}|[0-9A-F]{64})$/.test(fpr)) {
    throw new UsageError(`--fingerprint must be the key's full fingerprint (40 or 64 hex digits), not a key id; got ${JSON.stringify(value)}`, 'verify');
  }
  return fpr;
}

/** A full commit id, as the Python tool accepts it. */
function commitOf(value: string): string {
  const commit = value.trim().toLowerCase();
  if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(commit)) {
    throw new UsageError(`--commit must be a full commit id (40 or 64 hex digits, e.g. from \`git rev-parse TAG^{commit}\`); got ${JSON.stringify(value)}`, 'verify');
  }
  return commit;
}

async function folderOf(value: string, command: string): Promise<string> {
  const dir = resolve(value);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new UsageError(`${value}: not a folder; pass the folder of the downloaded release files`, command);
  return dir;
}

function print(results: CheckResult[], json: boolean, write: (s: string) => void): number {
  if (json) write(`${JSON.stringify(results, null, 2)}\n`);
  else for (const r of results) write(`${formatResult(r)}\n`);
  const failed = results.filter((r) => r.status === 'FAILED').length;
  const warned = results.filter((r) => r.status === 'WARN').length;
  if (!json) write(failed ? `verification FAILED: ${failed} check(s) failed\n` : `verification PASSED${warned ? ` with ${warned} accepted warning(s)` : ''}\n`);
  return failed ? 1 : 0;
}

/** Where the CLI writes. */
export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === '--version' || command === '-V') {
      io.out(`helix-release ${version()}\n`);
      return 0;
    }
    if (command === '--help' || command === '-h' || command === 'help') {
      io.out(usage(rest[0]));
      return 0;
    }
    if (command === undefined) throw new UsageError('no command');
    if (!COMMANDS[command]) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    const { values, positionals } = parse(command, rest);
    if (values['help']) {
      io.out(usage(command));
      return 0;
    }
    if (values['version']) {
      io.out(`helix-release ${version()}\n`);
      return 0;
    }
    const str = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
    switch (command) {
      case 'verify': {
        if (positionals.length !== 1) throw new UsageError(`verify takes one release folder, got ${positionals.length}`, command);
        const fingerprint = str('fingerprint');
        if (fingerprint === undefined && !values['tofu']) {
          throw new UsageError('pin the signing key with --fingerprint <FPR> (from the project, not from the release), or accept release-signing-key-fingerprint.txt explicitly with --tofu', command);
        }
        const commit = str('commit');
        const trust = str('trust-store');
        const results = await verifyRelease(await folderOf(positionals[0]!, command), {
          fingerprint: fingerprint === undefined ? undefined : fingerprintOf(fingerprint),
          tofu: values['tofu'] === true,
          commit: commit === undefined ? undefined : commitOf(commit),
          tag: str('tag'),
          trustStore: trust ? await loadTrustStore(trust) : undefined,
          allowDevelopmentKey: values['allow-development-key'] === true,
          allowDirty: values['allow-dirty'] === true,
        });
        return print(results, values['json'] === true, io.out);
      }
      case 'verify-plugin': {
        const trust = str('trust-store');
        if (!trust || positionals.length === 0) throw new UsageError('verify-plugin needs zip files and --trust-store FILE', command);
        const store = await loadTrustStore(trust);
        const results: CheckResult[] = [];
        for (const zip of positionals) {
          const verdict = await verifyPluginFile(zip, store);
          results.push(
            verdict.code === 'PLUGIN_OK'
              ? { status: 'PASSED', check: 'plugin', file: zip, reason: verdict.reason }
              : { status: 'FAILED', check: 'plugin', code: verdict.code, file: zip, reason: `${verdict.entry ? `${verdict.entry}: ` : ''}${verdict.reason}` },
          );
        }
        return print(results, values['json'] === true, io.out);
      }
      case 'reproduce': {
        if (positionals.length !== 1) throw new UsageError(`reproduce takes one release folder, got ${positionals.length}`, command);
        const fingerprint = str('fingerprint');
        if (fingerprint === undefined && !values['tofu']) {
          throw new UsageError('pin the signing key with --fingerprint <FPR> (from the project, not from the release), or accept release-signing-key-fingerprint.txt explicitly with --tofu', command);
        }
        return await reproduce({
          release: await folderOf(positionals[0]!, command),
          fingerprint: fingerprint === undefined ? undefined : fingerprintOf(fingerprint),
          tofu: values['tofu'] === true,
          allowDevelopmentKey: values['allow-development-key'] === true,
          repo: str('repo'),
          cwd: process.cwd(),
          allowToolchainDrift: values['allow-toolchain-drift'] === true,
          out: str('out'),
          keep: values['keep'] === true,
          env: process.env,
          progress: (line) => io.err(`${line}\n`),
          result: (line) => io.out(`${line}\n`),
          version: version(),
        });
      }
      case 'sign-statement': {
        if (positionals.length !== 1) throw new UsageError(`sign-statement takes one file, got ${positionals.length}`, command);
        const signed = await signStatement(resolve(positionals[0]!), process.env);
        io.out(`signed ${positionals[0]} with ${signed.fingerprint}: ${signed.signature}\n`);
        return 0;
      }
      case 'import': {
        if (positionals.length === 0) throw new UsageError('import needs at least one artifact file', command);
        const workspace = resolve(str('workspace') ?? '.');
        const imported = await importArtifacts(workspace, await loadConfig(workspace), positionals.map((f) => resolve(f)));
        for (const a of imported) io.out(`imported ${a.path} (${a.kind}, sha256 ${a.sha256})\n`);
        return 0;
      }
      default: {
        if (positionals.length) throw new UsageError(`plan takes no arguments, got ${positionals.join(' ')}`, command);
        const workspace = resolve(str('workspace') ?? '.');
        const plan = releasePlan(BUILT_IN_STAGES, await loadConfig(workspace), { apps: [], plugins: [] }, values['local'] ? 'import' : 'build');
        io.out(`${plan.stageTargets.join('\n')}\n`);
        return 0;
      }
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`helix-release: ${err.message}\n\n${usage(err.command)}`);
      return 2;
    }
    io.err(`helix-release: ${isReleaseError(err) ? err.format() : describeError(err)}\n`);
    return 1;
  }
}
