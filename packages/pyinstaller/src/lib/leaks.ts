/**
 * What the build environment may not add to an installer: a distribution the
 * app's lock does not hold. The build venv holds the app's locked packages
 * and the bundler's own (PyInstaller and what it needs: setuptools,
 * packaging, altgraph, …), and PyInstaller bundles whatever the app imports
 * from it. An app that imports `setuptools` shipped the toolchain's (with its
 * vendored packages), which no lock or provenance pinned for it.
 *
 * Which distribution a bundled file comes from is read from the venv's
 * `*.dist-info/RECORD` files; the files are the entries of PyInstaller's
 * own tables of contents (COLLECT: files, PYZ: pure-Python modules).
 */
import { normaliseDistName } from './wheels';

/** Python that prints `{ "<resolved file>": ["<name>", "<version>"] }` for every file the RECORDs in sys.argv[1] list. */
export const DIST_OWNERS = [
  'import csv, glob, json, os, sys',
  'site = sys.argv[1]',
  'out = {}',
  "for record in sorted(glob.glob(os.path.join(site, '*.dist-info', 'RECORD'))):",
  '    info = os.path.dirname(record)',
  "    name, version = os.path.basename(info)[:-len('.dist-info')].rsplit('-', 1) if '-' in os.path.basename(info) else (os.path.basename(info), '')",
  "    meta = os.path.join(info, 'METADATA')",
  '    if os.path.isfile(meta):',
  "        with open(meta, encoding='utf-8', errors='replace') as f:",
  '            for line in f:',
  "                if line.startswith('Name: '): name = line[6:].strip()",
  "                elif line.startswith('Version: '): version = line[9:].strip()",
  "                elif not line.strip(): break",
  "    with open(record, newline='', encoding='utf-8') as f:",
  '        for row in csv.reader(f):',
  '            if row and row[0]:',
  '                out[os.path.realpath(os.path.join(site, row[0]))] = [name, version]',
  'print(json.dumps(out))',
].join('\n');

/** The bundler's own distributions, whose files a bundle may hold (its loader, runtime hooks): their versions are pinned by the toolchain's lock. */
export const BUNDLER_DISTRIBUTIONS = ['pyinstaller', 'pyinstaller-hooks-contrib'];

/** A distribution of the build environment that a bundle takes files from, though the app's lock does not hold it. */
export interface LeakedDistribution {
  name: string;
  version: string;
  /** The bundle entries from it (destination names), sorted. */
  entries: string[];
}

/**
 * The distributions whose files `entries` ([destination, source] pairs of
 * PyInstaller's tables of contents) take that are neither in `locked` (the
 * app's locked names) nor the bundler's own, by `owners` (resolved file →
 * [name, version], from {@link DIST_OWNERS}). `resolve` maps a source path to
 * the form `owners` uses (realpath).
 */
export function leakedDistributions(
  entries: readonly [string, string][],
  owners: Readonly<Record<string, readonly [string, string]>>,
  locked: readonly string[],
  resolve: (file: string) => string = (f) => f,
): LeakedDistribution[] {
  const allowed = new Set([...locked, ...BUNDLER_DISTRIBUTIONS].map(normaliseDistName));
  const found = new Map<string, LeakedDistribution>();
  for (const [dest, src] of entries) {
    const owner = owners[resolve(src)];
    if (!owner) continue;
    const key = normaliseDistName(owner[0]);
    if (allowed.has(key)) continue;
    const leak = found.get(key) ?? { name: owner[0], version: owner[1], entries: [] };
    leak.entries.push(dest);
    found.set(key, leak);
  }
  return [...found.values()].map((l) => ({ ...l, entries: [...new Set(l.entries)].sort() })).sort((a, b) => (normaliseDistName(a.name) < normaliseDistName(b.name) ? -1 : 1));
}

/** The message of PACKAGE_UNLOCKED for `leaks` (non-empty), naming the lock to add them to. */
export function leakMessage(leaks: readonly LeakedDistribution[], requirementsFile: string): string {
  const one = leaks.length === 1;
  const each = leaks
    .map((l) => `${l.name} ${l.version} (${l.entries.length} ${l.entries.length === 1 ? 'entry' : 'entries'}, e.g. ${l.entries.slice(0, 3).join(', ')})`)
    .join('; ');
  const pins = leaks.map((l) => `${normaliseDistName(l.name)}==${l.version}`).join(', ');
  return (
    `the bundle takes ${one ? 'a package' : 'packages'} from the build environment (the toolchain installs ${one ? 'it' : 'them'} for PyInstaller) that ${requirementsFile} does not lock: ${each}; ` +
    `the app imports ${one ? 'it' : 'them'}, so lock ${one ? 'it' : 'them'}: add ${pins} with ${one ? 'its' : 'their'} --hash lines to ${requirementsFile} (uv pip compile --generate-hashes), ` +
    `or, if the app does not need ${one ? 'it' : 'them'}, list ${one ? 'its' : 'their'} top-level module${one ? '' : 's'} in the spec's Analysis(excludes=[...])`
  );
}
