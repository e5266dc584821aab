/**
 * BUILD_META.txt: one `key: value` per line, LF endings, keys in a fixed
 * order, then one `version <release path>: <version>` line per installer
 * and plugin (its own version; `version` is the release's), then one
 * `sha256 <release path>: <hex>` line per release file, each group in byte
 * order of the path. Lines starting with `#` are comments. Documented in
 * packages/build-meta/README.md.
 */
import { compareBytes } from './bytes';
import { ReleaseError } from './errors';

/** First line of the file. */
export const BUILD_META_FORMAT = 'helix-build-meta v1';

/** The fields, in the order they are written. */
export interface BuildMeta {
  tag: string;
  tagged: boolean;
  version: string;
  commit: string;
  dirty: boolean;
  sourceDateEpoch: number;
  sourceDate: string;
  builder: string;
  platform: string;
  python: string;
  pyinstaller: string;
  uv: string;
  syft: string;
  /** The sha256 of the syft binary (`syft-sha256:`), when the release ran one. */
  syftSha256?: string;
  /** The sha256 of the base interpreter the installers were built with (`python-sha256:`), when the package records name one. */
  pythonSha256?: string;
  /** The build host's OS, `<ID>@<VERSION_ID>` of /etc/os-release (`build-os:`), when the package records name one. */
  buildOs?: string;
  node: string;
  zlib: string;
  /** Installer or plugin path → its own version. */
  versions?: { path: string; version: string }[];
  /** Release path → sha256. */
  files: { path: string; sha256: string }[];
}

const KEYS: [keyof Omit<BuildMeta, 'files' | 'versions'>, string][] = [ // in this order; an optional one is left out when unset
  ['tag', 'tag'],
  ['tagged', 'tagged'],
  ['version', 'version'],
  ['commit', 'commit'],
  ['dirty', 'dirty'],
  ['sourceDateEpoch', 'source-date-epoch'],
  ['sourceDate', 'source-date'],
  ['builder', 'builder'],
  ['platform', 'platform'],
  ['buildOs', 'build-os'],
  ['python', 'python'],
  ['pythonSha256', 'python-sha256'],
  ['pyinstaller', 'pyinstaller'],
  ['uv', 'uv'],
  ['syft', 'syft'],
  ['syftSha256', 'syft-sha256'],
  ['node', 'node'],
  ['zlib', 'zlib'],
];

/** The keys left out when unset. */
const OPTIONAL = new Set<keyof BuildMeta>(['syftSha256', 'pythonSha256', 'buildOs']);

/** Formats BUILD_META.txt. */
export function formatBuildMeta(meta: BuildMeta): string {
  const lines = [`format: ${BUILD_META_FORMAT}`];
  for (const [key, name] of KEYS) {
    if (OPTIONAL.has(key) && meta[key] === undefined) continue;
    const value = String(meta[key]);
    if (/[\r\n]/.test(value)) throw new ReleaseError('BUILD_META_INVALID', `${name} holds a line break`);
    lines.push(`${name}: ${value}`);
  }
  for (const v of [...(meta.versions ?? [])].sort((a, b) => compareBytes(a.path, b.path))) {
    if (/[\r\n]/.test(v.path + v.version)) throw new ReleaseError('BUILD_META_INVALID', `the version line of ${JSON.stringify(v.path)} holds a line break`);
    lines.push(`version ${v.path}: ${v.version}`);
  }
  for (const file of [...meta.files].sort((a, b) => compareBytes(a.path, b.path))) {
    if (/[\r\n]/.test(file.path + file.sha256)) throw new ReleaseError('BUILD_META_INVALID', `the line of ${JSON.stringify(file.path)} holds a line break`);
    lines.push(`sha256 ${file.path}: ${file.sha256}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Parses BUILD_META.txt into its key/value pairs, the artifacts' own versions and the file digests. */
export function parseBuildMeta(text: string, file: string): { fields: Map<string, string>; versions: Map<string, string>; files: Map<string, string> } {
  const fields = new Map<string, string>();
  const versions = new Map<string, string>();
  const files = new Map<string, string>();
  text.split('\n').forEach((line, i) => {
    if (line === '' || line.startsWith('#')) return;
    const sep = line.indexOf(': ');
    if (sep < 0) throw new ReleaseError('BUILD_META_INVALID', `line ${i + 1} is not "key: value"`, { file });
    const key = line.slice(0, sep);
    const value = line.slice(sep + 2);
    // A key given twice is refused, never first- or last-wins (docs/release-format.md, "Strictness").
    if (key.startsWith('sha256 ')) {
      if (files.has(key.slice(7))) throw new ReleaseError('BUILD_META_INVALID', `line ${i + 1}: ${JSON.stringify(key.slice(7))} is listed twice`, { file });
      files.set(key.slice(7), value);
    } else {
      const [map, name] = key.startsWith('version ') ? [versions, key.slice(8)] : [fields, key];
      if (map.has(name)) throw new ReleaseError('BUILD_META_INVALID', `line ${i + 1}: ${key} is given twice`, { file });
      map.set(name, value);
    }
  });
  if (fields.get('format') !== BUILD_META_FORMAT) throw new ReleaseError('BUILD_META_INVALID', `first field must be "format: ${BUILD_META_FORMAT}"`, { file });
  if (!fields.has('commit')) throw new ReleaseError('BUILD_META_INVALID', 'it has no commit field', { file });
  return { fields, versions, files };
}
