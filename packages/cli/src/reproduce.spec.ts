import { describe, expect, it } from 'vitest';
import type { ProvenanceStatement } from '@helix-release/format';
import { driftTable, recordedToolchain, toolchainDrift } from './reproduce';

const statement = {
  predicate: {
    buildDefinition: {
      internalParameters: { sourceDateEpoch: 1, platform: 'linux-x86_64', imported: false, dirty: false },
      resolvedDependencies: [
        { uri: 'git+https://example.invalid/x@refs/tags/v1', digest: { gitCommit: 'a'.repeat(40) } },
        { uri: 'pkg:pypi/cffi@2.1.1', digest: { sha256: 'c'.repeat(64) }, annotations: { kind: 'locked-package' } },
        { uri: 'pkg:generic/python@3.11.7', digest: { sha256: '1'.repeat(64) }, annotations: { kind: 'toolchain', libpython: `libpython3.11.so.1.0 sha256:${'2'.repeat(64)}` } },
        { uri: 'pkg:pypi/pyinstaller@6.22.3', annotations: { kind: 'toolchain', bootloader: `Linux-64bit-intel sha256:${'3'.repeat(64)}` } },
        { uri: 'pkg:generic/debian@12', annotations: { kind: 'build-host-os' } },
        { uri: 'pkg:pypi/uv@0.13.9', annotations: { kind: 'toolchain' } },
        { uri: 'pkg:golang/github.com/anchore/syft@v1.57.1', digest: { sha256: '4'.repeat(64) }, annotations: { kind: 'toolchain', tool: 'syft' } },
        { uri: 'pkg:generic/node@20.20.2', annotations: { kind: 'toolchain', zlib: '1.3.1' } },
        { uri: 'file:tools/toolchain/pins.json', digest: { sha256: '5'.repeat(64) }, annotations: { kind: 'toolchain-pins' } },
      ],
    },
  },
} as unknown as ProvenanceStatement;

describe('the toolchain a reproduction must match', () => {
  it('reads every component the provenance records, and nothing of the locked packages', () => {
    expect(Object.fromEntries(recordedToolchain(statement))).toEqual({
      python: '3.11.7',
      'python interpreter sha256': '1'.repeat(64),
      libpython: `libpython3.11.so.1.0 sha256:${'2'.repeat(64)}`,
      os: 'debian@12',
      syft: '1.57.1',
      'syft sha256': '4'.repeat(64),
      node: '20.20.2',
      zlib: '1.3.1',
      'toolchain pins (PyInstaller, its bootloader, uv) sha256': '5'.repeat(64),
      platform: 'linux-x86_64',
    });
  });

  it('reports each differing or missing component, and the table aligns them', () => {
    const recorded = recordedToolchain(statement);
    const here = new Map(recorded);
    expect(toolchainDrift(recorded, here)).toEqual([]);
    here.set('python', '3.12.1');
    here.delete('libpython');
    here.set('extra here', 'ignored');
    const rows = toolchainDrift(recorded, here);
    expect(rows).toEqual([
      { component: 'python', recorded: '3.11.7', here: '3.12.1' },
      { component: 'libpython', recorded: `libpython3.11.so.1.0 sha256:${'2'.repeat(64)}`, here: '(not found)' },
    ]);
    const lines = driftTable(rows).split('\n');
    expect(lines[0]).toMatch(/^ {2}component {2}recorded in the release +this machine$/);
    expect(lines[1]).toMatch(/^ {2}python {5}3\.11\.7 +3\.12\.1$/);
    // The third column starts at one place in every line.
    const at = lines[0]!.indexOf('this machine');
    expect(lines.slice(1).map((l) => l.slice(at))).toEqual(rows.map((r) => r.here));
  });
});
