/**
 * `npx nx run release:all` as a person runs it: in a pseudo-terminal (a real
 * one, from Python's pty module), outside CI, with nobody at the keyboard. It
 * must ask nothing, show each long step while it runs (PyInstaller, syft, the
 * loud DEVELOPMENT-key notices), end with the summary, and leave the tree as
 * clean as it found it.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cloneWorkspace, git, plain, removeTemp, run, tempRoot, testEnv, type RunResult } from './workspace';

/** Runs argv in a new pseudo-terminal, copying what it prints; kills it after `seconds` (a prompt would wait forever). */
const PTY_RUNNER = `
import os, pty, select, signal, sys, time
seconds = float(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
deadline = time.monotonic() + seconds
out = sys.stdout.buffer
while True:
    left = deadline - time.monotonic()
    if left <= 0:
        os.kill(pid, signal.SIGKILL)
        out.write(b"\\n=== PTY TIMEOUT ===\\n")
        break
    ready, _, _ = select.select([fd], [], [], min(left, 1.0))
    if not ready:
        continue
    try:
        data = os.read(fd, 65536)
    except OSError:
        break
    if not data:
        break
    out.write(data)
    out.flush()
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 124)
`;

let root: string | undefined;
let ws: string;
let result: RunResult;
let screen: string;

beforeAll(async () => {
  root = await tempRoot('terminal');
  ws = await cloneWorkspace(inject('baseWorkspace'), join(root, 'ws'));
  // A person's shell: not CI, no forced colours off, a terminal on every stream.
  const env = testEnv({ CI: undefined, FORCE_COLOR: undefined, NX_TUI: undefined, TERM: 'xterm-256color' });
  // --skip-nx-cache: every stage runs, so PyInstaller's and syft's progress must show.
  result = await run('python3', ['-c', PTY_RUNNER, '600', process.execPath, join(ws, 'node_modules/nx/dist/bin/nx.js'), 'run', 'release:all', '--skip-nx-cache'], { cwd: ws, env });
  // eslint-disable-next-line no-control-regex
  screen = plain(result.output).replace(/\r/g, '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}, 15 * 60_000);
afterAll(async () => removeTemp(root));

describe('release:all in a terminal', () => {
  it('asks nothing and succeeds', () => {
    expect(screen, screen).not.toContain('=== PTY TIMEOUT ===');
    expect(screen).not.toMatch(/Share usage data|\? .*\(Y\/n\)|\(y\/N\)/);
    expect(result.code, screen).toBe(0);
  });

  it('shows each long step while it runs, and the notices a person must not miss', () => {
    for (const line of [
      /\[helix-studio:package\] PyInstaller \S+ on Python \S+: helix-studio\.spec/,
      /\[helix-studio:package\] helix-studio-1\.4\.0-\S+\.zip: \d+ files/,
      /\[helix-studio:artifact-sbom\] SBOM-helix-studio-1\.4\.0-\S+\.zip\.spdx\.json, SBOM-helix-studio-1\.4\.0-\S+\.zip\.cdx\.json written with syft 1\.57\.1/,
      /!! \[plugin-hello:plugin-zip\] plugins\/hello-1\.0\.0\.zip is signed with the DEVELOPMENT plugin key/,
      /!! \[release:sign\] The release is signed with the DEVELOPMENT key 4F40C2A82074F58CCBC320F1EE876E4DFFF5DFA4/,
    ]) {
      expect(screen, String(line)).toMatch(line);
    }
  });

  it('ends with the summary: where the release is, what it holds, its key and tree', () => {
    const summary = screen.slice(screen.indexOf('[release:all] release in'));
    expect(summary).toMatch(/^\[release:all\] release in dist\/release\/ \(built here\)$/m);
    expect(summary).toMatch(/^\[release:all\] version 1\.4\.0, no tag at HEAD, commit [0-9a-f]{40}, SOURCE_DATE_EPOCH \d+$/m);
    expect(summary).toMatch(/^\[release:all\] \d+ files in SHA256SUMS\.txt: 2 installers, 2 plugins, 8 SBOMs, /m);
    expect(summary).toMatch(/^\[release:all\] signed by 4F40C2A82074F58CCBC320F1EE876E4DFFF5DFA4 \(the DEVELOPMENT key\)$/m);
    expect(summary).toMatch(/^\[release:all\] built from a clean tree$/m);
    // --skip-nx-cache: every stage ran, each with its time, PyInstaller's the longest.
    const times = /^\[release:all\] times: (.*); a stage not listed came from the Nx cache$/m.exec(summary);
    expect(times, summary).not.toBeNull();
    const each = Object.fromEntries(times![1]!.split(', ').map((t) => { const m = /^(\S+) (\d+\.\d) s$/.exec(t); expect(m, t).not.toBeNull(); return [m![1]!, Number(m![2])]; }));
    expect(Object.keys(each)).toEqual(expect.arrayContaining(['release:preflight', 'release:toolchain', 'helix-studio:lock', 'helix-studio:package', 'helix-greeter:package', 'plugin-hello:plugin-zip', 'release:conformance', 'release:sbom', 'release:checksums', 'release:build-meta', 'release:provenance', 'release:sign']));
    expect(each['helix-studio:package']).toBeGreaterThan(each['release:checksums']!);
    expect(summary).toMatch(/^!! \[release:all\] The release is signed with the DEVELOPMENT key .*do not publish it\.$/m);
  });

  it('leaves the tree clean (nx.json not rewritten, no cache folders)', () => {
    expect(git(ws, 'status', '--porcelain')).toBe('');
  });
});
