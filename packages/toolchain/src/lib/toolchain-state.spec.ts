/**
 * tools/nx/toolchain-state.cjs, the runtime input that lets Nx serve
 * release:toolchain from the cache: a provisioned toolchain hashes the same
 * on every run and differently once a binary changes; a toolchain that is
 * not provisioned never hashes the same twice.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const repo = join(__dirname, '..', '..', '..', '..');
const SCRIPT = join(repo, 'tools', 'nx', 'toolchain-state.cjs');
const pins = JSON.parse(readFileSync(join(repo, 'tools', 'toolchain', 'pins.json'), 'utf8')) as { python: { requirements: string; devRequirements: string } };
const digest = (rel: string) => createHash('sha256').update(readFileSync(join(repo, rel), 'utf8')).digest('hex');

let ws: string;
let pathDir: string;
const state = () => execFileSync(process.execPath, [SCRIPT, 'python3'], { cwd: ws, encoding: 'utf8', env: { PATH: pathDir } });
const file = (path: string, body = 'x') => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, body);
  chmodSync(path, 0o755);
};

/** A toolchain folder as provisionToolchain leaves it (the binaries are stand-ins: the script only looks at them). */
function provision(stamp = `3.11.7 ${digest(pins.python.requirements)}`) {
  const venv = join(ws, '.helix', 'toolchain', 'venv');
  for (const tool of ['python', 'pyinstaller', 'uv']) file(join(venv, 'bin', tool));
  file(join(ws, '.helix', 'toolchain', 'bin', 'syft'));
  writeFileSync(join(venv, 'helix-toolchain.stamp'), `${stamp}\n`);
}

beforeEach(() => {
  ws = mkdtempSync(join(tmpdir(), 'helix-toolchain-state-'));
  pathDir = join(ws, 'path-bin');
  file(join(pathDir, 'python3'));
});
afterEach(() => rmSync(ws, { recursive: true, force: true }));

describe.skipIf(process.platform === 'win32')('toolchain-state.cjs', () => {
  it('hashes a provisioned toolchain the same on every run', () => {
    provision();
    const first = state();
    expect(first).toMatch(/^stamp=3\.11\.7 [0-9a-f]{64}\ndev=false\npython=/);
    for (const line of ['pyinstaller', 'uv', 'base-python', 'syft']) expect(first).toMatch(new RegExp(`^${line}=\\S+ \\d+ [\\d.]+$`, 'm'));
    expect(state()).toBe(first);
    // The workspace's own paths are relative: a copy sharing the toolchain hashes the same.
    expect(first).toMatch(/^syft=\.helix\/toolchain\/bin\/syft \d+ /m);
    expect(first).not.toContain(ws);
  });

  it('changes when a binary is rebuilt or the dev tools are installed', () => {
    provision();
    const before = state();
    const syft = join(ws, '.helix', 'toolchain', 'bin', 'syft');
    utimesSync(syft, new Date(2030, 0, 1), new Date(2030, 0, 1));
    const rebuilt = state();
    expect(rebuilt).not.toBe(before);
    provision(`3.11.7 ${digest(pins.python.requirements)} ${digest(pins.python.devRequirements)}`);
    utimesSync(syft, new Date(2030, 0, 1), new Date(2030, 0, 1));
    expect(state()).toMatch(/^dev=true$/m);
  });

  it('never repeats itself for a toolchain that is missing, stale or incomplete', () => {
    const unprovisioned = /^unprovisioned \((.*)\) [0-9a-f-]{36}\n$/;
    expect(state()).toMatch(unprovisioned);
    expect(state()).not.toBe(state());

    provision('3.11.7 0000000000000000000000000000000000000000000000000000000000000000');
    expect(state()).toMatch(/^unprovisioned \(pins\) /);

    provision();
    rmSync(join(ws, '.helix', 'toolchain', 'venv', 'bin', 'uv'));
    expect(state()).toMatch(/^unprovisioned \(uv\) /);

    provision();
    rmSync(join(ws, '.helix', 'toolchain', 'bin', 'syft'));
    expect(state()).toMatch(/^unprovisioned \(syft\) /);
    // A syft on PATH is one provisioning reuses.
    file(join(pathDir, 'syft'));
    expect(state()).toMatch(/^syft-on-path=/m);

    rmSync(join(pathDir, 'python3'));
    expect(state()).toMatch(/^unprovisioned \(python3\) /);
  });
});
