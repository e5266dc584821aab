/**
 * `npx nx g @helix-release/nx-plugin:init` (also run by
 * `nx add @helix-release/nx-plugin`): registers the plugin in nx.json, writes
 * a commented release.config.ts and the ignore entries, and says what to do
 * next. Running it again changes nothing that is there already.
 */
import { readNxJson, updateNxJson, writeJson, type Tree } from '@nx/devkit';
import type { InitGeneratorSchema } from './schema';

/** The plugin's name in nx.json. */
export const PLUGIN = '@helix-release/nx-plugin';

/** What the release writes and nothing should commit: the release, the toolchain, Nx's cache, tool caches. */
export const IGNORED = ['node_modules/', 'dist/', '.nx/', '.helix/', '.cache/', '__pycache__/', '*.pyc'];

/** A commented release.config.ts for a workspace whose apps are below `appsRoot`. */
export function configTemplate(appsRoot: string, pack: string): string {
  return `/**
 * The release of this workspace, read by @helix-release/nx-plugin. Every key
 * is checked when Nx loads this file; docs/configuration.md of helix-release
 * lists them all with their defaults.
 */
import { defineConfig } from '@helix-release/core';

export default defineConfig({
  // Each folder below it holding a PyInstaller *.spec and a pyproject.toml is
  // an app: \`npx nx g @helix-release/nx-plugin:app <name>\` makes one.
  apps: {
    root: ${JSON.stringify(appsRoot)},
    // Environment the packaged apps run with in the smoke test and conformance.
    // env: { MY_APP_SETTING: '1' },
  },
  // The conformance pack every installer is tested with; a case with an
  // \`app\` file is for that app only, and every app needs at least one case.
  conformance: { pack: ${JSON.stringify(pack)} },
  // The release's version; without it, the apps' one version. On a tag build
  // the tag must be the version or v<version>.
  // version: '1.0.0',
  // Plugins: each folder below root with a plugin.json becomes a signed zip.
  // plugins: { root: 'plugins', requireSigned: true, keyName: 'my-plugins' },
  sign: {
    // The release is signed with the OpenPGP key in GPG_PRIVATE_KEY (with
    // GPG_PASSPHRASE and GPG_PUBLIC_KEY_FINGERPRINT). Without one it is built
    // unsigned, and verify refuses it; set required: true for CI, so that a
    // missing key fails the release instead.
    required: false,
  },
});
`;
}

/** `.gitignore` with the entries of {@link IGNORED} it lacks appended. */
export function withIgnores(current: string): string {
  const have = new Set(current.split('\n').map((l) => l.trim()));
  const missing = IGNORED.filter((entry) => !have.has(entry) && !have.has(entry.replace(/\/$/, '')));
  if (missing.length === 0) return current;
  const base = current === '' || current.endsWith('\n') ? current : `${current}\n`;
  return `${base}${base ? '\n' : ''}# helix-release: the release, the toolchain, caches\n${missing.join('\n')}\n`;
}

/** The generator. */
export default async function initGenerator(tree: Tree, options: InitGeneratorSchema = {}): Promise<() => void> {
  const appsRoot = options.appsRoot ?? 'apps';
  const pack = options.pack ?? 'conformance';
  const done: string[] = [];
  const nxJson = readNxJson(tree) ?? {};
  const plugins = nxJson.plugins ?? [];
  if (!plugins.some((p) => (typeof p === 'string' ? p : p.plugin) === PLUGIN)) {
    // updateNxJson writes only an nx.json that exists.
    if (tree.exists('nx.json')) updateNxJson(tree, { ...nxJson, plugins: [...plugins, PLUGIN] });
    else writeJson(tree, 'nx.json', { plugins: [PLUGIN] });
    done.push(`registered ${PLUGIN} in nx.json`);
  }
  if (!tree.exists('release.config.ts')) {
    tree.write('release.config.ts', configTemplate(appsRoot, pack));
    done.push('wrote release.config.ts');
  }
  const ignore = tree.read('.gitignore', 'utf-8') ?? '';
  const updated = withIgnores(ignore);
  if (updated !== ignore) {
    tree.write('.gitignore', updated);
    const added = updated.slice(ignore.length).split('\n').filter((l) => l && !l.startsWith('#'));
    done.push(`added ${added.join(', ')} to .gitignore`);
  }
  return () => {
    process.stdout.write(
      [
        '',
        `helix-release: ${done.length ? done.join('; ') : 'already set up, nothing changed'}.`,
        'Next:',
        '  npx nx g @helix-release/nx-plugin:app <name>   # a Python CLI app with its spec, lockfiles and conformance cases',
        '  git add -A && git commit -m "release setup"    # the release takes its timestamps from git',
        '  npx nx run release:all                         # build, test, describe and sign the release in dist/release',
        '  npx --no-install helix-release verify dist/release --tofu',
        '',
      ].join('\n'),
    );
  };
}
