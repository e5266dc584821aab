/**
 * The release of the sample apps in workspace-fixtures/: the Studio and its
 * plugins, and helix-greeter (made by `nx g @helix-release/nx-plugin:app`).
 * Every key is checked when Nx loads this file; docs/configuration.md lists
 * them all.
 */
import { defineConfig } from '@helix-release/core';

export default defineConfig({
  // Two apps of different versions (the Studio 1.4.0, helix-greeter 0.1.0):
  // the release has a version of its own.
  version: '1.4.0',
  apps: {
    // Every folder below it with a PyInstaller spec: studio/ and greeter/.
    root: 'workspace-fixtures',
    settings: {
      // The Studio's own setting: its smoke test and conformance run it as
      // packaged, refusing unsigned plugins. The greeter does not get it.
      'helix-studio': { env: { OMNIS_HELIX_PLUGIN_REQUIRE_SIGNED: '1' } },
      // The greeter's own conformance pack, merged into the release's.
      'helix-greeter': { conformance: 'workspace-fixtures/greeter-conformance' },
    },
  },
  plugins: {
    root: 'workspace-fixtures/plugins',
    requireSigned: true,
    keyName: 'helix-dev-plugins',
    // DEVELOPMENT ONLY: used when HELIX_PLUGIN_SIGNING_KEY is unset.
    developmentKeyFile: 'workspace-fixtures/keys/DEVELOPMENT-ONLY-plugin-signing-key.pem',
  },
  trustStore: 'workspace-fixtures/trust-store/trust-store.json',
  conformance: { pack: 'workspace-fixtures/conformance' },
  stages: [
    {
      // An example of a team's own stage (workspace-fixtures/stages/license-report):
      // the evidence stages cover its output with no change to them.
      name: 'license-report',
      executor: '@helix-fixtures/license-report:license-report',
      after: 'build',
      outputs: [{ path: 'THIRD_PARTY_LICENSES.txt' }],
    },
  ],
  sign: {
    required: false,
    // DEVELOPMENT ONLY: used when GPG_PRIVATE_KEY is unset.
    developmentKey: {
      privateKeyFile: 'workspace-fixtures/keys/DEVELOPMENT-ONLY-release-signing-key.asc',
      passphraseFile: 'workspace-fixtures/keys/DEVELOPMENT-ONLY-release-signing-key.passphrase',
      fingerprint: '4F40C2A82074F58CCBC320F1EE876E4DFFF5DFA4',
    },
  },
});
