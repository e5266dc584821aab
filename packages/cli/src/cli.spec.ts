import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, version } from './cli';

const BIN = resolve(__dirname, '..', 'bin', 'helix-release.cjs');

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

let empty: string;
beforeAll(async () => {
  empty = await mkdtemp(join(tmpdir(), 'helix-cli-'));
  await writeFile(join(empty, 'a-file.txt'), 'not a folder\n');
});
afterAll(async () => {
  await rm(empty, { recursive: true, force: true });
});

describe('helix-release (the command line)', () => {
  it('prints its version and help, exit 0', async () => {
    expect(await cli('--version')).toEqual({ code: 0, out: `helix-release ${version()}\n`, err: '' });
    expect(version()).toMatch(/^\d+\.\d+\.\d+/);
    const help = await cli('--help');
    expect(help.code).toBe(0);
    for (const command of ['verify', 'verify-plugin', 'import', 'plan']) expect(help.out).toContain(`helix-release ${command}`);
    const verifyHelp = await cli('verify', '--help');
    expect(verifyHelp.code).toBe(0);
    // Every option is described.
    for (const option of ['--fingerprint', '--tofu', '--commit', '--tag', '--trust-store', '--json']) expect(verifyHelp.out).toMatch(new RegExp(`^  ${option} +\\S`, 'm'));
    expect((await cli('help', 'plan')).out).toMatch(/--local +the plan's import variant/);
  });

  it.each<[string, string[], RegExp]>([
    ['no command', [], /no command/],
    ['an unknown command', ['frobnicate'], /unknown command "frobnicate"/],
    ['an unknown option', ['verify', '.', '--tofu', '--bogus'], /Unknown option '--bogus'$/m],
    ['an option without its value', ['verify', '.', '--fingerprint'], /--fingerprint <value>' argument missing/],
    ['two folders', ['verify', 'a', 'b', '--tofu'], /verify takes one release folder, got 2/],
    ['no pinned key', ['verify', '.'], /pin the signing key with --fingerprint/],
    ['a folder that does not exist', ['verify', '/no/such/release-folder', '--tofu'], /\/no\/such\/release-folder: not a folder/],
    ['a short key id', ['verify', '.', '--fingerprint', '0123456789ABCDEF'], /--fingerprint must be the key's full fingerprint \(40 or 64 hex digits\), not a key id/],
    ['a short commit id', ['verify', '.', '--tofu', '--commit', 'c0ffee1'], /--commit must be a full commit id/],
    ['verify-plugin without a trust store', ['verify-plugin', 'x.zip'], /verify-plugin needs zip files and --trust-store FILE/],
    ['plan with an argument', ['plan', 'extra'], /plan takes no arguments/],
  ])('%s is a usage error: exit 2, the reason, then the usage', async (_what, argv, reason) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(reason);
    expect(r.err).toMatch(/usage:/);
  });

  it('takes a file for a folder as a usage error too, naming it', async () => {
    const r = await cli('verify', join(empty, 'a-file.txt'), '--tofu');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${join(empty, 'a-file.txt')}: not a folder`);
  });

  it('accepts a fingerprint with spaces and 0x, and a commit in capitals, as the Python tools do', async () => {
    // An empty folder: the usage is fine, the release fails its checks (exit 1, not 2).
    const r = await cli('verify', empty, '--fingerprint', '0x4F40 C2A8 2074 F58C CBC3 20F1 EE87 6E4D FFF5 DFA4', '--commit', 'ABCDEF0123456789ABCDEF0123456789ABCDEF01');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^FAILED UNSIGNED: /m);
    expect(r.out).toMatch(/verification FAILED/);
  });

  it('ends quietly, without an EPIPE stack trace, when its reader goes away', async () => {
    const child = spawn(process.execPath, [BIN, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Close our end at once: every write of the child hits a closed pipe.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(stderr).not.toMatch(/EPIPE|Error/);
    expect(code).toBe(0);
  });
});
