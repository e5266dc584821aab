import { describe, expect, it } from 'vitest';
import { parseOsRelease, probeInterpreter, readOsRelease } from './host';

describe('the build host', () => {
  it('reads ID and VERSION_ID of an os-release file, quoted or not', () => {
    expect(parseOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n')).toEqual({ id: 'debian', version: '12' });
    expect(parseOsRelease("ID=alpine\nVERSION_ID='3.20.3'\n")).toEqual({ id: 'alpine', version: '3.20.3' });
    expect(parseOsRelease('ID=arch\n')).toEqual({ id: 'arch', version: 'unknown' });
    expect(parseOsRelease('ID_LIKE=debian\n')).toEqual({ id: 'unknown', version: 'unknown' });
    expect(parseOsRelease('')).toEqual({ id: 'unknown', version: 'unknown' });
  });

  it('names the platform where there is no os-release', async () => {
    expect(await readOsRelease('darwin')).toEqual({ id: 'darwin', version: 'unknown' });
    const here = await readOsRelease();
    if (process.platform === 'linux') expect(here.id).toMatch(/^[a-z0-9._-]+$/);
  });

  it('probes the base interpreter of python3: version, prefix, executable and libpython', async () => {
    const facts = await probeInterpreter('python3', process.env);
    expect(facts.version).toMatch(/^3\.\d+\.\d+/);
    expect(facts.executable.startsWith('/')).toBe(true);
    expect(facts.basePrefix.startsWith('/')).toBe(true);
    if (facts.libpython) expect(facts.libpython).toMatch(/libpython3\.\d+.*\.so/);
  });

  it('refuses a probe that prints something else', async () => {
    await expect(probeInterpreter('true', process.env)).rejects.toThrow();
    await expect(probeInterpreter('echo', process.env)).rejects.toThrow();
  });
});
