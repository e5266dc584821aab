/**
 * `helix-release reproduce <release-folder>`: rebuilds a published release
 * from the commit its provenance names and compares every subject byte for
 * byte (docs/release-format.md, "Reproducing a release").
 *
 * In order, each step stopping the command with its code:
 *   1. the release verifies, as `helix-release verify` checks it
 *      (REPRODUCE_NOT_VERIFIED);
 *   2. its provenance describes a build this command can repeat: from a
 *      clean tree, naming its commit (REPRODUCE_UNSUPPORTED);
 *   3. the commit is checked out into a temporary worktree of the repository
 *      (REPRODUCE_COMMIT_MISSING);
 *   4. this machine's toolchain equals the recorded one, or the command stops
 *      with a table of what differs before anything is built
 *      (REPRODUCE_TOOLCHAIN_DRIFT; `--allow-toolchain-drift` goes on);
 *   5. every stage but sign runs there, with SOURCE_DATE_EPOCH set exactly
 *      when the release had it set (REPRODUCE_BUILD_FAILED). A release of
 *      imported artifacts (the tag workflow's: installers built by one job per
 *      OS, released by another) is rebuilt the same way: the apps and plugins
 *      first, then `tools/release_local.sh --no-sign` on exactly the artifacts
 *      the release imported, the ones built on another platform taken from the
 *      release as they are (NOT_REBUILT, which neither passes nor fails);
 *   6. every subject is compared, and each `.asc` of the release is verified
 *      against the rebuilt file (REPRODUCE_MISMATCH per file, with a
 *      diffoscope report when diffoscope is installed);
 *   7. `reproduction.intoto.json` is written; `helix-release sign-statement`
 *      signs it afterwards (reproduce refuses to run with a key in its
 *      environment: the rebuild's tools could read it there).
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import * as openpgp from 'openpgp';
import {
  PINS_FILE,
  ReleaseError,
  helixFile,
  loadConfig,
  platformTag,
  probeInterpreter,
  readOsRelease,
  readZipDirectory,
  type ZipEntryInfo,
  resolveSyft,
  runTool,
  sha256File,
  sha256Hex,
  stableJson,
  writeFileAtomic,
} from '@helix-release/core';
import { RELEASE_FILES, SIGNATURE_ENTRY, SIGNATURE_SUFFIX, STATEMENT_TYPE, type ProvenanceStatement, type ResourceDescriptor } from '@helix-release/format';
import { KEY_ENV, detachedSignature, loadSigningKey, type KeySource } from '@helix-release/sign';
import { formatResult, verifyRelease } from '@helix-release/verify';
import { INSTALLER_NAME } from './import';

/** The plugin signing key's variable (packages/plugin-zip). */
const PLUGIN_KEY_ENV = 'HELIX_PLUGIN_SIGNING_KEY' as const;

/** The predicate type of `reproduction.intoto.json` (modelled on SLSA's verification summary, VSA v1). */
export const REPRODUCTION_PREDICATE = 'https://helix-release.invalid/reproduction/v1';
/** The verifier id it names. */
export const REPRODUCE_VERIFIER = 'https://helix-release.invalid/reproduce/v1';
/** Its default file name. */
export const REPRODUCTION_FILE = 'reproduction.intoto.json';
/** What reproduce refuses in its environment (a rebuild runs every build tool as its child). */
const SIGNING_SECRETS = ['GPG_PRIVATE_KEY', 'GPG_PASSPHRASE'];

/**
 * `helix-release sign-statement <file>`: a detached armoured signature
 * `<file>.asc` with the key of GPG_PRIVATE_KEY / GPG_PASSPHRASE /
 * GPG_PUBLIC_KEY_FINGERPRINT, dated now. It starts no tool, so the key is
 * only ever in this process (reproduce refuses to run with it).
 */
export async function signStatement(file: string, env: NodeJS.ProcessEnv): Promise<{ signature: string; fingerprint: string }> {
  const data = await readFile(file).catch((cause: unknown) => {
    throw new ReleaseError('FILE_MISSING', 'cannot read the statement to sign', { file, cause });
  });
  const armoredKey = env[KEY_ENV.key];
  if (!armoredKey) throw new ReleaseError('SIGN_KEY_REQUIRED', `${KEY_ENV.key} is not set: give the armoured private key to sign with, ${KEY_ENV.passphrase} and ${KEY_ENV.fingerprint}`, { file });
  const source: KeySource = { armoredKey, passphrase: env[KEY_ENV.passphrase] || undefined, expectedFingerprint: env[KEY_ENV.fingerprint] || undefined, origin: 'environment', where: KEY_ENV.key };
  const now = Math.floor(Date.now() / 1000);
  const key = await loadSigningKey(source, now);
  const signature = `${file}${SIGNATURE_SUFFIX}`;
  await writeFileAtomic(signature, await detachedSignature(key, data, now));
  return { signature, fingerprint: key.fingerprint };
}

export interface ReproduceOptions {
  release: string;
  fingerprint?: string;
  tofu: boolean;
  allowDevelopmentKey: boolean;
  /** The repository holding the commit (a path or a URL); default: the git repository of `cwd`. */
  repo?: string;
  /** The workspace whose node_modules and toolchain may be shared (default `cwd`). */
  cwd: string;
  allowToolchainDrift: boolean;
  /** Where the statement goes (default `<cwd>/reproduction.intoto.json`). */
  out?: string;
  /** Keep the temporary worktree (its path is printed). */
  keep: boolean;
  env: NodeJS.ProcessEnv;
  /** Progress, to stderr. */
  progress: (line: string) => void;
  /** Results, to stdout. */
  result: (line: string) => void;
  version: string;
}

/** One row of the toolchain comparison. */
export interface ToolchainRow {
  component: string;
  recorded: string;
  here: string;
}

/** The verdict on one subject of the provenance. */
export interface ArtifactVerdict {
  name: string;
  sha256: string;
  rebuiltSha256: string | null;
  /**
   * NOT_REBUILT: an imported artifact of another platform, taken from the release into the rebuild's import as it is.
   * MATCH_BUT_PLUGIN_SIGNATURE: a plugin zip rebuilt byte-identical in every entry but SIGNATURE.ed25519 (the rebuild
   * signed it with a throwaway key: the project's plugin key is not the rebuilder's), so the release's zip went on.
   */
  verdict: 'MATCH' | 'MISMATCH' | 'MISSING' | 'NOT_REBUILT' | 'MATCH_BUT_PLUGIN_SIGNATURE';
  /** For a file the release signed: whether its `.asc` verifies against the rebuilt bytes. */
  signature?: 'VERIFIES' | 'FAILS';
  diffoscope?: string;
}

/** The component prefix of a bundled OS package in the toolchain comparison. */
const OS_PACKAGE = 'os package';

/** Type, name (with `:arch` for a deb of an architecture) and version of a `pkg:deb|rpm|apk` purl. */
export function osPackageOf(purl: string): { type: 'deb' | 'rpm' | 'apk'; name: string; version: string } | undefined {
  const m = /^pkg:(deb|rpm|apk)\/[^/]+\/([^@]+)@([^?#]+)(?:\?([^#]*))?/.exec(purl);
  if (!m) return undefined;
  const arch = new URLSearchParams(m[4] ?? '').get('arch');
  const type = m[1] as 'deb' | 'rpm' | 'apk';
  return { type, name: `${decodeURIComponent(m[2]!)}${type === 'deb' && arch ? `:${arch}` : ''}`, version: decodeURIComponent(m[3]!) };
}

/** This machine's version of each recorded OS package (`(not installed)` when its package database lacks it). */
async function localOsPackages(recorded: Map<string, string>, env: NodeJS.ProcessEnv): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const component of recorded.keys()) {
    const m = new RegExp(`^${OS_PACKAGE} (deb|rpm|apk) (\\S+)$`).exec(component);
    if (!m) continue;
    const [type, name] = [m[1]!, m[2]!];
    const query =
      type === 'deb' ? { command: 'dpkg-query', args: ['-W', '-f', '${Version}', name] } : type === 'rpm' ? { command: 'rpm', args: ['-q', '--qf', '%{VERSION}-%{RELEASE}', name] } : { command: 'apk', args: ['info', '-e', '-v', name] };
    const r = await runTool({ ...query, env, okExitCodes: [0, 1] }).catch(() => undefined);
    const version = r && r.exitCode === 0 ? r.stdout.trim().replace(new RegExp(`^${name.replace(/[.+]/g, '\\$&')}-`), '') : '';
    out.set(component, version || '(not installed)');
  }
  return out;
}

/** What the provenance records that a rebuild must match, as comparable strings. */
export function recordedToolchain(statement: ProvenanceStatement): Map<string, string> {
  const deps = statement.predicate.buildDefinition.resolvedDependencies;
  const out = new Map<string, string>();
  const ann = (d: ResourceDescriptor, key: string) => (d.annotations as Record<string, unknown> | undefined)?.[key];
  const all = (component: string, value: string) => out.set(component, out.has(component) ? `${out.get(component)}, ${value}` : value);
  for (const d of deps) {
    const uri = d.uri ?? '';
    if (uri.startsWith('pkg:generic/python@')) {
      all('python', uri.slice('pkg:generic/python@'.length));
      if (d.digest?.['sha256']) all('python interpreter sha256', d.digest['sha256']);
      if (typeof ann(d, 'libpython') === 'string') all('libpython', ann(d, 'libpython') as string);
    } else if (uri.startsWith('pkg:golang/') && ann(d, 'tool') === 'syft') {
      all('syft', uri.replace(/^.*@v?/, ''));
      if (d.digest?.['sha256']) all('syft sha256', d.digest['sha256']);
    } else if (uri.startsWith('pkg:generic/node@')) {
      all('node', uri.slice('pkg:generic/node@'.length));
      if (typeof ann(d, 'zlib') === 'string') all('zlib', ann(d, 'zlib') as string);
    } else if (uri === `file:${PINS_FILE}` && d.digest?.['sha256']) {
      all('toolchain pins (PyInstaller, its bootloader, uv) sha256', d.digest['sha256']);
    } else if (ann(d, 'kind') === 'build-host-os') {
      all('os', decodeURIComponent(uri.replace(/^pkg:generic\//, '')));
    } else if (ann(d, 'kind') === 'bundled-os-package') {
      const pkg = osPackageOf(uri);
      if (pkg) all(`${OS_PACKAGE} ${pkg.type} ${pkg.name}`, pkg.version);
    }
  }
  out.set('platform', statement.predicate.buildDefinition.internalParameters.platform);
  return out;
}

/** Rows whose values differ (a component recorded but not found here, or the reverse, differs too). */
export function toolchainDrift(recorded: Map<string, string>, here: Map<string, string>): ToolchainRow[] {
  const rows: ToolchainRow[] = [];
  for (const [component, value] of recorded) {
    const local = here.get(component) ?? '(not found)';
    if (local !== value) rows.push({ component, recorded: value, here: local });
  }
  return rows;
}

/** The rows as an aligned text table. */
export function driftTable(rows: readonly ToolchainRow[]): string {
  const head: ToolchainRow = { component: 'component', recorded: 'recorded in the release', here: 'this machine' };
  const w = (k: keyof ToolchainRow) => Math.max(...[head, ...rows].map((r) => r[k].length));
  return [head, ...rows].map((r) => `  ${r.component.padEnd(w('component'))}  ${r.recorded.padEnd(w('recorded'))}  ${r.here}`).join('\n');
}

/** This machine's toolchain, in the components of {@link recordedToolchain}. */
async function localToolchain(workspace: string, python: string, env: NodeJS.ProcessEnv): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  try {
    const probe = await probeInterpreter(python, env);
    out.set('python', probe.version);
    out.set('python interpreter sha256', await sha256File(probe.executable));
    if (probe.libpython) out.set('libpython', `${basename(probe.libpython)} sha256:${await sha256File(probe.libpython)}`);
  } catch {
    // Reported as "(not found)" in the table.
  }
  try {
    const syft = await resolveSyft(workspace, env);
    out.set('syft', syft.version);
    out.set('syft sha256', syft.sha256);
  } catch {
    // Likewise.
  }
  out.set('node', process.versions.node);
  out.set('zlib', process.versions.zlib ?? 'unknown');
  out.set('toolchain pins (PyInstaller, its bootloader, uv) sha256', await sha256File(helixFile(PINS_FILE)));
  if (process.platform === 'linux') {
    const os = await readOsRelease();
    out.set('os', `${os.id}@${os.version}`);
  }
  out.set('platform', platformTag());
  return out;
}

async function git(cwd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return (await runTool({ command: 'git', args: ['-C', cwd, ...args], env })).stdout.trim();
}

/** Verifies `signature` (armoured, detached) of `data` with `publicKey`. */
async function signatureVerifies(publicKey: string, signature: string, data: Uint8Array): Promise<boolean> {
  try {
    const key = await openpgp.readKey({ armoredKey: publicKey });
    const result = await openpgp.verify({ message: await openpgp.createMessage({ binary: data }), signature: await openpgp.readSignature({ armoredSignature: signature }), verificationKeys: key, expectSigned: true });
    await result.signatures[0]?.verified;
    return result.signatures.length > 0;
  } catch {
    return false;
  }
}

/**
 * Compares each of `subjects` (published name and sha256) with the file of
 * that name in `rebuilt`, and verifies the release's `.asc` of it, when there
 * is one, against the rebuilt bytes; with `diffoscopeDir`, writes a
 * diffoscope report there for each file that differs.
 */
export async function compareRebuild(
  release: string,
  rebuilt: string,
  subjects: readonly { name: string; sha256: string }[],
  options: { diffoscopeDir?: string; env: NodeJS.ProcessEnv },
): Promise<ArtifactVerdict[]> {
  const publicKey = await readFile(join(release, RELEASE_FILES.publicKey), 'utf8');
  const verdicts: ArtifactVerdict[] = [];
  for (const s of subjects) {
    const file = join(rebuilt, s.name);
    const rebuiltSha256 = existsSync(file) ? await sha256File(file) : null;
    const verdict: ArtifactVerdict = { name: s.name, sha256: s.sha256, rebuiltSha256, verdict: rebuiltSha256 === null ? 'MISSING' : rebuiltSha256 === s.sha256 ? 'MATCH' : 'MISMATCH' };
    const asc = join(release, `${s.name}${SIGNATURE_SUFFIX}`);
    if (rebuiltSha256 !== null && existsSync(asc)) verdict.signature = (await signatureVerifies(publicKey, await readFile(asc, 'utf8'), await readFile(file))) ? 'VERIFIES' : 'FAILS';
    if (verdict.verdict === 'MISMATCH' && options.diffoscopeDir) {
      const report = join(options.diffoscopeDir, `${s.name.replace(/\//g, '__')}.txt`);
      await mkdir(dirname(report), { recursive: true });
      await runTool({ command: 'diffoscope', args: ['--text', report, '--no-progress', join(release, s.name), file], env: options.env, okExitCodes: [0, 1], timeoutMs: 30 * 60_000 });
      verdict.diffoscope = report;
    }
    verdicts.push(verdict);
  }
  return verdicts;
}

/** One line per verdict: `MATCH <file>`, or `FAILED REPRODUCE_MISMATCH: <file>: <why>`. */
export function verdictLines(verdicts: readonly ArtifactVerdict[]): string[] {
  return verdicts.map((v) => {
    if (v.verdict === 'MATCH') return `MATCH ${v.name}${v.signature ? ' (its signature verifies against the rebuilt file)' : ''}`;
    if (v.verdict === 'MATCH_BUT_PLUGIN_SIGNATURE') return `MATCH ${v.name}, but for its ${SIGNATURE_ENTRY} (rebuilt with a throwaway key; every other entry is byte-identical, and the release's zip went on into the rebuild)`;
    if (v.verdict === 'NOT_REBUILT') return `NOT REBUILT ${v.name}: built for another platform (or imported as it is), so it was taken from the release into the rebuild's import unchanged; rebuild it where it was built`;
    if (v.verdict === 'MISSING') return `FAILED REPRODUCE_MISMATCH: ${v.name}: the rebuild did not produce it`;
    return `FAILED REPRODUCE_MISMATCH: ${v.name}: sha256 ${v.sha256} in the release, ${v.rebuiltSha256} rebuilt${v.signature === 'FAILS' ? '; its signature does not verify against the rebuilt file' : ''}${v.diffoscope ? `; diffoscope report: ${v.diffoscope}` : ''}`;
  });
}

/**
 * The commit a release was built from, when its provenance describes a build
 * `reproduce` can repeat: from a clean tree, naming a full commit.
 * REPRODUCE_UNSUPPORTED, naming `file`, otherwise.
 */
export function repeatableCommit(statement: ProvenanceStatement, file: string): string {
  const internal = statement.predicate.buildDefinition.internalParameters;
  const commit = statement.predicate.buildDefinition.externalParameters.source.digest?.['gitCommit'];
  if (internal.dirty) throw new ReleaseError('REPRODUCE_UNSUPPORTED', 'it was built from a working tree with uncommitted changes (internalParameters.dirty): no commit holds its sources', { file });
  if (!commit || !/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(commit)) throw new ReleaseError('REPRODUCE_UNSUPPORTED', `its provenance names no source commit (${JSON.stringify(commit ?? null)})`, { file });
  return commit;
}

/** What a release of imported artifacts imported, and which of them a rebuild on `platform` makes. */
export interface ImportedSet {
  /** Installers of `platform` and plugins (release paths): the rebuild builds them. */
  rebuilt: string[];
  /** Installers of other platforms and imported files no stage makes: taken from the release as they are. */
  carried: string[];
}

/**
 * The artifacts an imported release imported (its installers, plugins and
 * other imported files: every subject a release-level stage of `stageOutputs`
 * did not make), split by whether a build on `platform` makes them.
 */
export function importedSet(statement: ProvenanceStatement, stageOutputs: ReadonlySet<string>, platform: string): ImportedSet {
  const out: ImportedSet = { rebuilt: [], carried: [] };
  for (const s of statement.subject) {
    const kind = s.annotations?.['helix.kind'];
    if (kind !== 'installer' && kind !== 'plugin' && kind !== 'custom') continue;
    if (stageOutputs.has(s.name)) continue;
    const installer = kind === 'installer' ? INSTALLER_NAME.exec(s.name.split('/').pop()!) : null;
    if (kind === 'plugin' || (installer && installer[3] === platform && !s.name.includes('/'))) out.rebuilt.push(s.name);
    else out.carried.push(s.name);
  }
  return out;
}

/** An entry's local record: its local header, name, extra field and compressed data (undefined when out of bounds). */
function localRecord(buf: Buffer, e: ZipEntryInfo): Buffer | undefined {
  const off = e.localHeaderOffset;
  if (off + 30 > buf.length) return undefined;
  const end = off + 30 + buf.readUInt16LE(off + 26) + buf.readUInt16LE(off + 28) + e.compressedSize;
  return end <= buf.length ? buf.subarray(off, end) : undefined;
}

/**
 * True when zips `a` and `b` hold the same entries in the same order, and
 * every entry but `except` is the same to the byte (local header, data and
 * central directory fields): a plugin zip signed with another key.
 */
export function sameZipBut(a: Buffer, b: Buffer, except: string): boolean {
  let da: ZipEntryInfo[];
  let db: ZipEntryInfo[];
  try {
    da = readZipDirectory(a, 'a');
    db = readZipDirectory(b, 'b');
  } catch {
    return false;
  }
  if (da.length !== db.length) return false;
  for (const [i, x] of da.entries()) {
    const y = db[i]!;
    if (x.name !== y.name || !x.rawName.equals(y.rawName)) return false;
    if (x.name === except) continue;
    const fields = ['method', 'flags', 'crc32', 'compressedSize', 'uncompressedSize', 'versionMadeBy', 'externalAttributes'] as const;
    if (fields.some((f) => x[f] !== y[f])) return false;
    const la = localRecord(a, x);
    const lb = localRecord(b, y);
    if (!la || !lb || !la.equals(lb)) return false;
  }
  return true;
}

/** A throwaway Ed25519 plugin key (PKCS#8 PEM) for a rebuild: the project's own plugin key is not the rebuilder's. */
export function throwawayPluginKey(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** Runs the command; returns its exit code (0: every subject rebuilt byte-identical). */
export async function reproduce(opts: ReproduceOptions): Promise<number> {
  const release = resolve(opts.release);
  const provenanceFile = join(release, RELEASE_FILES.provenance);
  // The rebuild's tools could read a key from this process's environment (/proc/<pid>/environ): sign afterwards.
  const secrets = SIGNING_SECRETS.filter((v) => opts.env[v]);
  if (secrets.length) {
    throw new ReleaseError('REPRODUCE_SECRETS_IN_ENVIRONMENT', `${secrets.join(' and ')} ${secrets.length === 1 ? 'is' : 'are'} set, and every tool of the rebuild could read ${secrets.length === 1 ? 'it' : 'them'} from this process's environment; unset ${secrets.length === 1 ? 'it' : 'them'} here, and sign the statement afterwards with \`helix-release sign-statement ${REPRODUCTION_FILE}\``, { file: release });
  }

  // 1. The release verifies.
  opts.progress(`reproduce: verifying ${release}`);
  const checks = await verifyRelease(release, { fingerprint: opts.fingerprint, tofu: opts.tofu, allowDevelopmentKey: opts.allowDevelopmentKey });
  const failed = checks.filter((c) => c.status === 'FAILED');
  if (failed.length) {
    for (const c of failed) opts.result(formatResult(c));
    throw new ReleaseError('REPRODUCE_NOT_VERIFIED', `the release does not verify (${[...new Set(failed.map((c) => c.code))].join(', ')}); nothing was rebuilt: fix or re-download it, then run reproduce again`, { file: release });
  }
  const provenanceBytes = await readFile(provenanceFile);
  const statement = JSON.parse(provenanceBytes.toString('utf8')) as ProvenanceStatement;
  const internal = statement.predicate.buildDefinition.internalParameters;

  // 2. A build this command can repeat.
  const commit = repeatableCommit(statement, provenanceFile);
  const subjects = statement.subject.map((s) => ({ name: s.name, sha256: s.digest['sha256']! }));

  // 3. The commit, in a temporary worktree.
  const cwd = resolve(opts.cwd);
  const repo = opts.repo ?? (await git(cwd, ['rev-parse', '--show-toplevel'], opts.env).catch(() => cwd));
  const local = existsSync(repo) ? resolve(repo) : undefined;
  const tmp = await mkdtemp(join(tmpdir(), 'helix-reproduce-'));
  const src = join(tmp, 'src');
  let worktree = false;
  try {
    if (local) {
      const known = await runTool({ command: 'git', args: ['-C', local, 'cat-file', '-e', `${commit}^{commit}`], env: opts.env, okExitCodes: [0, 1, 128] });
      if (known.exitCode !== 0) throw new ReleaseError('REPRODUCE_COMMIT_MISSING', `the repository has no commit ${commit}, which the release was built from: fetch it (git fetch --tags) or name the project's repository with --repo <url-or-path>`, { file: local });
      opts.progress(`reproduce: checking out ${commit} into ${src}`);
      await git(local, ['worktree', 'add', '--quiet', '--detach', src, commit], opts.env);
      worktree = true;
    } else {
      opts.progress(`reproduce: cloning ${repo} and checking out ${commit} into ${src}`);
      await runTool({ command: 'git', args: ['clone', '--quiet', '--no-checkout', repo!, src], env: opts.env });
      const known = await runTool({ command: 'git', args: ['-C', src, 'cat-file', '-e', `${commit}^{commit}`], env: opts.env, okExitCodes: [0, 1, 128] });
      if (known.exitCode !== 0) throw new ReleaseError('REPRODUCE_COMMIT_MISSING', `${repo} has no commit ${commit}, which the release was built from`, { file: repo! });
      await git(src, ['checkout', '--quiet', '--detach', commit], opts.env);
    }
    // node_modules is shared when the commit locks exactly what this workspace has (the config needs it to load).
    const sameLock = existsSync(join(cwd, 'node_modules')) && (await readFile(join(cwd, 'package-lock.json')).catch(() => undefined))?.equals(await readFile(join(src, 'package-lock.json')).catch(() => Buffer.alloc(0)));
    if (sameLock) {
      await symlink(await realpath(join(cwd, 'node_modules')), join(src, 'node_modules'));
    } else {
      opts.progress('reproduce: the commit locks other npm packages than this workspace: npm ci');
      await runTool({ command: 'npm', args: ['ci', '--no-audit', '--no-fund'], cwd: src, env: opts.env, streamOutput: true, timeoutMs: 30 * 60_000 });
    }
    const config = await loadConfig(src);

    // 4. This machine's toolchain against the recorded one, before anything is built.
    const recorded = recordedToolchain(statement);
    const here = await localToolchain(cwd, config.python, opts.env);
    for (const [component, version] of await localOsPackages(recorded, opts.env)) here.set(component, version);
    const drift = toolchainDrift(recorded, here);
    if (drift.length && !opts.allowToolchainDrift) {
      throw new ReleaseError('REPRODUCE_TOOLCHAIN_DRIFT', `this machine's toolchain differs from the one the release records, so a rebuild would not give the same bytes; nothing was built:\n${driftTable(drift)}\nrun it where the recorded toolchain is, or pass --allow-toolchain-drift to rebuild anyway (a mismatch is then expected)`, { file: provenanceFile });
    }
    if (drift.length) opts.progress(`reproduce: WARNING: rebuilding with a different toolchain (--allow-toolchain-drift), so a mismatch is expected:\n${driftTable(drift)}`);
    else opts.progress(`reproduce: this machine's toolchain is the recorded one (${[...recorded.keys()].join(', ')})`);

    // The provisioned toolchain likewise, when the commit pins exactly what this workspace provisioned.
    const recordedPins = recorded.get('toolchain pins (PyInstaller, its bootloader, uv) sha256');
    const toolchain = join(cwd, '.helix', 'toolchain');
    if (existsSync(toolchain) && recordedPins === here.get('toolchain pins (PyInstaller, its bootloader, uv) sha256')) {
      await mkdir(join(src, '.helix'), { recursive: true });
      await symlink(await realpath(toolchain), join(src, '.helix', 'toolchain'));
    }

    // 5. Every stage but sign, with the release's clock.
    const env: NodeJS.ProcessEnv = { ...opts.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
    for (const secret of ['GPG_PRIVATE_KEY', 'GPG_PASSPHRASE', 'GPG_PUBLIC_KEY_FINGERPRINT']) delete env[secret];
    const fromEnvironment = internal.sourceDateEpochFrom === 'environment' || (internal.sourceDateEpochFrom === undefined && Number(await git(src, ['log', '-1', '--format=%ct', 'HEAD'], opts.env)) !== internal.sourceDateEpoch);
    if (fromEnvironment) env['SOURCE_DATE_EPOCH'] = String(internal.sourceDateEpoch);
    else delete env['SOURCE_DATE_EPOCH'];
    const nx = join(src, 'node_modules', 'nx', 'dist', 'bin', 'nx.js');
    if (!existsSync(join(src, '.helix', 'toolchain'))) {
      opts.progress('reproduce: provisioning the toolchain the commit pins (npx nx run release:toolchain)');
      await runTool({ command: process.execPath, args: [nx, 'run', 'release:toolchain'], cwd: src, env, streamOutput: true, timeoutMs: 60 * 60_000 });
    }
    const clock = fromEnvironment ? ` with SOURCE_DATE_EPOCH=${internal.sourceDateEpoch}` : ', the clocks from git';
    const nxRun = async (args: string[], what?: string, pluginKey?: string) => {
      try {
        await runTool({
          command: process.execPath,
          args: [nx, ...args, '--skip-nx-cache'],
          cwd: src,
          env: pluginKey ? { ...env, [PLUGIN_KEY_ENV]: pluginKey } : env,
          ...(pluginKey ? { passSecrets: [PLUGIN_KEY_ENV] } : {}),
          streamOutput: true,
          timeoutMs: 90 * 60_000,
        });
      } catch (cause) {
        throw new ReleaseError('REPRODUCE_BUILD_FAILED', `the rebuild of ${commit} failed${what ? ` ${what}` : ''} (its output is above); nothing was compared`, { file: src, cause });
      }
    };
    let carried: string[] = [];
    const signatureFromRelease: string[] = [];
    if (!internal.imported) {
      opts.progress(`reproduce: rebuilding every stage but sign (npx nx run release:provenance${clock})`);
      await nxRun(['run', 'release:provenance']);
    } else {
      // The tag workflow's two halves: the build jobs' apps and plugins, then the publish job's import.
      const stageOutputs = new Set(config.stages.flatMap((st) => st.outputs.map((o) => o.path)));
      const set = importedSet(statement, stageOutputs, platformTag());
      carried = set.carried;
      if (set.rebuilt.length === 0) {
        throw new ReleaseError('REPRODUCE_UNSUPPORTED', `it imported no installer of this platform (${platformTag()}) and no plugin, so there is nothing to rebuild here: run reproduce on the platform its installers were built on`, { file: provenanceFile });
      }
      opts.progress(`reproduce: the release imported ${set.rebuilt.length + set.carried.length} artifact(s); rebuilding the apps and plugins (npx nx run-many -t package,plugin-zip${clock})`);
      // The project's plugin key is not the rebuilder's (and a real one would reach every build tool):
      // a throwaway key signs the plugins, so only SIGNATURE.ed25519 can differ, and it is compared apart.
      opts.progress(`reproduce: the plugins are signed with a throwaway key, and compared in every entry but ${SIGNATURE_ENTRY}`);
      await nxRun(['run-many', '-t', 'package,plugin-zip'], 'building the apps and plugins', throwawayPluginKey());
      const built = join(src, config.releaseDir);
      const staging = join(tmp, 'import');
      await mkdir(staging, { recursive: true });
      const files: string[] = [];
      for (const name of [...set.rebuilt, ...set.carried]) {
        let from = set.rebuilt.includes(name) ? join(built, name) : join(release, name);
        const kind = statement.subject.find((x) => x.name === name)?.annotations?.['helix.kind'];
        if (kind === 'plugin' && existsSync(from)) {
          const [rebuiltZip, publishedZip] = [await readFile(from), await readFile(join(release, name))];
          if (!rebuiltZip.equals(publishedZip) && sameZipBut(rebuiltZip, publishedZip, SIGNATURE_ENTRY)) {
            // The same plugin, signed with another key: the release's zip goes on, so what is made from it can match.
            signatureFromRelease.push(name);
            from = join(release, name);
          }
        }
        const to = join(staging, String(files.length), basename(name));
        if (!existsSync(from)) {
          throw new ReleaseError('REPRODUCE_BUILD_FAILED', `the rebuild of ${commit} made no ${name}, which the release imported: the commit does not build it on ${platformTag()}; nothing was compared`, { file: from });
        }
        await mkdir(dirname(to), { recursive: true });
        await copyFile(from, to);
        files.push(to);
      }
      for (const name of set.carried) opts.progress(`reproduce: ${name} is not rebuilt here; the release's file is imported as it is`);
      opts.progress(`reproduce: releasing them as the publish job did (tools/release_local.sh --no-sign, ${files.length} artifact(s))`);
      try {
        await runTool({ command: 'bash', args: [join(src, 'tools', 'release_local.sh'), '--no-sign', ...files], cwd: src, env, streamOutput: true, timeoutMs: 90 * 60_000 });
      } catch (cause) {
        throw new ReleaseError('REPRODUCE_BUILD_FAILED', `the rebuild of ${commit} failed releasing the imported artifacts (its output is above); nothing was compared`, { file: src, cause });
      }
    }

    // 6. Every subject, byte for byte; each signature against the rebuilt file.
    const rebuilt = join(src, config.releaseDir);
    const out = resolve(opts.out ?? join(cwd, REPRODUCTION_FILE));
    // SHA256SUMS.txt too: it is no subject (it lists them), and its signature is what a user checks first.
    subjects.push({ name: RELEASE_FILES.sums, sha256: await sha256File(join(release, RELEASE_FILES.sums)) });
    const diffoscope = await runTool({ command: 'diffoscope', args: ['--version'], env: opts.env }).then(() => true, () => false);
    const verdicts = (await compareRebuild(release, rebuilt, subjects, { diffoscopeDir: diffoscope ? join(dirname(out), 'reproduction-diffoscope') : undefined, env: opts.env })).map((v) =>
      v.verdict !== 'MATCH' ? v : carried.includes(v.name) ? { ...v, verdict: 'NOT_REBUILT' as const } : signatureFromRelease.includes(v.name) ? { ...v, verdict: 'MATCH_BUT_PLUGIN_SIGNATURE' as const } : v,
    );
    for (const line of verdictLines(verdicts)) opts.result(line);
    if (!diffoscope && verdicts.some((v) => v.verdict === 'MISMATCH')) opts.progress('reproduce: install diffoscope for a report of what differs in each file');

    // 7. The statement.
    const passed = verdicts.every((v) => v.verdict === 'MATCH' || v.verdict === 'NOT_REBUILT' || v.verdict === 'MATCH_BUT_PLUGIN_SIGNATURE');
    const reproduction = {
      _type: STATEMENT_TYPE,
      subject: subjects.map((s) => ({ name: s.name, digest: { sha256: s.sha256 } })),
      predicateType: REPRODUCTION_PREDICATE,
      predicate: {
        verifier: { id: REPRODUCE_VERIFIER, version: { 'helix-release': opts.version } },
        timeVerified: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        resourceUri: statement.predicate.buildDefinition.externalParameters.source.uri ?? `git+${repo}`,
        policy: { uri: 'https://helix-release.invalid/policies/byte-identical-rebuild/v1' },
        inputAttestations: [{ uri: RELEASE_FILES.provenance, digest: { sha256: sha256Hex(provenanceBytes) } }],
        verificationResult: passed ? 'PASSED' : 'FAILED',
        rebuild: {
          commit,
          imported: internal.imported,
          ...(carried.length ? { notRebuilt: [...carried].sort() } : {}),
          ...(signatureFromRelease.length ? { pluginSignatureFromRelease: [...signatureFromRelease].sort() } : {}),
          sourceDateEpoch: internal.sourceDateEpoch,
          sourceDateEpochFrom: fromEnvironment ? 'environment' : 'git',
          platform: platformTag(),
          toolchain: Object.fromEntries([...here.entries()].sort(([a], [b]) => (a < b ? -1 : 1))),
          toolchainDrift: drift,
        },
        artifacts: verdicts.map((v) => ({ name: v.name, digest: { sha256: v.sha256 }, rebuiltDigest: v.rebuiltSha256 === null ? null : { sha256: v.rebuiltSha256 }, verdict: v.verdict, ...(v.signature ? { signature: v.signature } : {}) })),
      },
    };
    const text = stableJson(reproduction);
    await writeFileAtomic(out, text);
    const count = (verdict: ArtifactVerdict['verdict']) => verdicts.filter((v) => v.verdict === verdict).length;
    const [matched, butSignature, notRebuilt] = [count('MATCH') + count('MATCH_BUT_PLUGIN_SIGNATURE'), count('MATCH_BUT_PLUGIN_SIGNATURE'), count('NOT_REBUILT')];
    const notes = [
      ...(butSignature ? [`${butSignature} plugin zip${butSignature === 1 ? '' : 's'} but for ${SIGNATURE_ENTRY}`] : []),
      ...(notRebuilt ? [`${notRebuilt} not rebuilt here`] : []),
    ];
    opts.result(`reproduction ${passed ? 'PASSED' : 'FAILED'}: ${matched} of ${verdicts.length - notRebuilt} ${notRebuilt ? 'rebuilt ' : ''}files byte-identical${notes.length ? ` (${notes.join('; ')})` : ''}; ${out}`);
    return passed ? 0 : 1;
  } finally {
    if (opts.keep) opts.progress(`reproduce: kept the rebuild in ${src}`);
    else {
      if (worktree && local) await runTool({ command: 'git', args: ['-C', local, 'worktree', 'remove', '--force', src], env: opts.env }).catch(() => undefined);
      await rm(tmp, { recursive: true, force: true });
      if (worktree && local) await runTool({ command: 'git', args: ['-C', local, 'worktree', 'prune'], env: opts.env }).catch(() => undefined);
    }
  }
}
