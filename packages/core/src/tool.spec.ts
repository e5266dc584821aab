import { describe, expect, it } from 'vitest';
import { runTool } from './tool';

const printEnv = (name: string) => ['-e', `process.stdout.write(process.env[${JSON.stringify(name)}] ?? '<unset>')`];

describe('the secrets a tool never gets', () => {
  it('removes every signing secret, set here or given in env', async () => {
    process.env['HELIX_PLUGIN_SIGNING_KEY'] = 'inherited-secret';
    try {
      expect((await runTool({ command: process.execPath, args: printEnv('HELIX_PLUGIN_SIGNING_KEY') })).stdout).toBe('<unset>');
      expect((await runTool({ command: process.execPath, args: printEnv('GPG_PRIVATE_KEY'), env: { GPG_PRIVATE_KEY: 'given' } })).stdout).toBe('<unset>');
    } finally {
      delete process.env['HELIX_PLUGIN_SIGNING_KEY'];
    }
  });

  it('hands on a secret named in passSecrets only when env itself sets it, never the inherited one', async () => {
    const passed = await runTool({ command: process.execPath, args: printEnv('HELIX_PLUGIN_SIGNING_KEY'), env: { HELIX_PLUGIN_SIGNING_KEY: 'throwaway' }, passSecrets: ['HELIX_PLUGIN_SIGNING_KEY'] });
    expect(passed.stdout).toBe('throwaway');
    process.env['HELIX_PLUGIN_SIGNING_KEY'] = 'inherited-secret';
    try {
      const inherited = await runTool({ command: process.execPath, args: printEnv('HELIX_PLUGIN_SIGNING_KEY'), passSecrets: ['HELIX_PLUGIN_SIGNING_KEY'] });
      expect(inherited.stdout).toBe('<unset>');
      // Another secret beside it is still removed.
      const other = await runTool({ command: process.execPath, args: printEnv('GPG_PASSPHRASE'), env: { HELIX_PLUGIN_SIGNING_KEY: 'throwaway', GPG_PASSPHRASE: 'p' }, passSecrets: ['HELIX_PLUGIN_SIGNING_KEY'] });
      expect(other.stdout).toBe('<unset>');
    } finally {
      delete process.env['HELIX_PLUGIN_SIGNING_KEY'];
    }
  });
});
