/**
 * The `helix-release` command line.
 *
 *   helix-release verify <release-dir> (--fingerprint FPR | --tofu) [--commit SHA] [--tag TAG] [--trust-store FILE] [--json]
 *   helix-release verify-plugin <zip>... --trust-store FILE [--json]
 *   helix-release import <file>... [--workspace DIR]
 *   helix-release plan [--workspace DIR] [--local]
 *
 * `verify` and `verify-plugin` work offline on published files only. `import`
 * and `plan` serve tools/release_local.sh.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describeError, isReleaseError, loadConfig, releasePlan } from '@helix-release/core';
import { BUILT_IN_STAGES } from '@helix-release/nx-plugin/src/lib/stages';
import { formatResult, loadTrustStore, verifyPluginZip, verifyRelease, type CheckResult } from '@helix-release/verify';
import { importArtifacts } from './import';

const USAGE = `usage:
  helix-release verify <release-dir> (--fingerprint FPR | --tofu) [--commit SHA] [--tag TAG] [--trust-store FILE] [--json]
  helix-release verify-plugin <zip>... --trust-store FILE [--json]
  helix-release import <file>... [--workspace DIR]
  helix-release plan [--workspace DIR] [--local]`;

class UsageError extends Error {}

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

function parse(args: readonly string[], valued: readonly string[], booleans: readonly string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (valued.includes(name)) {
      const value = inline ?? args[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
    } else if (booleans.includes(name)) {
      flags.set(name, true);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { positional, flags };
}

function str(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

function print(results: CheckResult[], json: boolean, write: (s: string) => void): number {
  if (json) write(`${JSON.stringify(results, null, 2)}\n`);
  else for (const r of results) write(`${formatResult(r)}\n`);
  const failed = results.filter((r) => r.status === 'FAILED').length;
  if (!json) write(failed ? `verification FAILED: ${failed} check(s) failed\n` : 'verification PASSED\n');
  return failed ? 1 : 0;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: readonly string[], io = { out: (s: string) => process.stdout.write(s), err: (s: string) => process.stderr.write(s) }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'verify': {
        const p = parse(rest, ['fingerprint', 'commit', 'tag', 'trust-store'], ['tofu', 'json']);
        if (p.positional.length !== 1) throw new UsageError('verify takes one release folder');
        if (!p.flags.has('fingerprint') && !p.flags.has('tofu')) {
          throw new UsageError('pin the signing key with --fingerprint <FPR> (from the project, not from the release), or accept release-signing-key-fingerprint.txt explicitly with --tofu');
        }
        const trust = str(p, 'trust-store');
        const results = await verifyRelease(resolve(p.positional[0]!), {
          fingerprint: str(p, 'fingerprint'),
          tofu: p.flags.has('tofu'),
          commit: str(p, 'commit'),
          tag: str(p, 'tag'),
          trustStore: trust ? await loadTrustStore(trust) : undefined,
        });
        return print(results, p.flags.has('json'), io.out);
      }
      case 'verify-plugin': {
        const p = parse(rest, ['trust-store'], ['json']);
        const trust = str(p, 'trust-store');
        if (!trust || p.positional.length === 0) throw new UsageError('verify-plugin needs zip files and --trust-store FILE');
        const store = await loadTrustStore(trust);
        const results: CheckResult[] = [];
        for (const zip of p.positional) {
          const verdict = await verifyPluginZip(await readFile(zip), store);
          results.push(
            verdict.code === 'PLUGIN_OK'
              ? { status: 'PASSED', check: 'plugin', file: zip, reason: verdict.reason }
              : { status: 'FAILED', check: 'plugin', code: verdict.code, file: zip, reason: `${verdict.entry ? `${verdict.entry}: ` : ''}${verdict.reason}` },
          );
        }
        return print(results, p.flags.has('json'), io.out);
      }
      case 'import': {
        const p = parse(rest, ['workspace'], []);
        if (p.positional.length === 0) throw new UsageError('import needs at least one artifact file');
        const workspace = resolve(str(p, 'workspace') ?? '.');
        const imported = await importArtifacts(workspace, await loadConfig(workspace), p.positional.map((f) => resolve(f)));
        for (const a of imported) io.out(`imported ${a.path} (${a.kind}, sha256 ${a.sha256})\n`);
        return 0;
      }
      case 'plan': {
        const p = parse(rest, ['workspace'], ['local']);
        const workspace = resolve(str(p, 'workspace') ?? '.');
        // --local: the import variant, what tools/release_local.sh runs for imported artifacts.
        const plan = releasePlan(BUILT_IN_STAGES, await loadConfig(workspace), { apps: [], plugins: [] }, p.flags.has('local') ? 'import' : 'build');
        io.out(`${plan.stageTargets.join('\n')}\n`);
        return 0;
      }
      default:
        throw new UsageError(command ? `unknown command ${command}` : 'no command');
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`helix-release: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    io.err(`helix-release: ${isReleaseError(err) ? err.format() : describeError(err)}\n`);
    return 1;
  }
}
