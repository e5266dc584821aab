/**
 * A small synthetic release for the verifier tests and the release fuzz
 * target: real files, SHA256SUMS.txt from formatSums, BUILD_META.txt from
 * formatBuildMeta, SBOMs normalised by the sbom stage's own normaliseSpdx (and
 * their CycloneDX twins from its cyclonedxFromSpdx), a
 * provenance statement and conformance results written per
 * docs/release-format.md, and REAL OpenPGP signatures from a key that the real
 * `gpg` generates in a temporary GNUPGHOME (TestGpg), with the DSSE envelopes
 * and PEM key the sign stage makes from that key's raw material (packages/sign's
 * dsseEnvelope). `Tweaks` build a release
 * that is consistent (and signed) but wrong in one respect.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import * as openpgp from 'openpgp';
import { dsseName, formatBuildMeta, formatSums, sbomFormatOf, sbomName } from '@helix-release/format';
import { cyclonedxFromSpdx, normaliseSpdx, type SpdxDocument } from '@helix-release/sbom';
import { dsseEnvelope, dsseKeyOf, publicKeyPem, sbomStatementPayload, type DsseKey } from '@helix-release/sign';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const CASES_DIR = join(REPO_ROOT, 'workspace-fixtures', 'plugin-trust-cases');

export const COMMIT = createHash('sha1').update('helix synthetic release').digest('hex');
export const TAG = 'v1.0.0';
export const SDE = 1_704_067_200;
export const INSTALLER = 'helix-studio-1.0.0-linux-x86_64.zip';
export const PLUGIN = 'plugins/tiny-1.0.0.zip';
export const SBOM_INSTALLER = sbomName(INSTALLER);
export const SBOM_PLUGIN = sbomName(PLUGIN);
export const CDX_INSTALLER = sbomName(INSTALLER, 'cyclonedx');
export const CDX_PLUGIN = sbomName(PLUGIN, 'cyclonedx');
export const PUBLIC_KEY = 'release-signing-public-key.asc';
export const PUBLIC_KEY_PEM = 'release-signing-public-key.pem';
export const FINGERPRINT_FILE = 'release-signing-key-fingerprint.txt';

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** Runs a command; throws with its output when it fails. */
export function mustRun(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(command, args, { encoding: 'utf8', env: env ?? process.env, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${r.status}:\n${r.stdout}${r.stderr}${r.error ?? ''}`);
  return r.stdout;
}

/** What signs a synthetic release. */
export interface Signer {
  fingerprint: string;
  publicKey(): string;
  /** Writes `<file>.asc`. */
  sign(file: string): void | Promise<void>;
  /** The key of the DSSE envelopes and the PEM export: the signing (sub)key's raw material. */
  dsseKey(): Promise<DsseKey>;
}

/**
 * The DSSE key (packages/sign's dsseKeyOf) of an armoured OpenPGP secret key,
 * whatever its validity today: the signing (sub)key's material, as the sign
 * stage uses it.
 */
export async function dsseKeyOfArmor(armoredKey: string, passphrase?: string): Promise<DsseKey> {
  let key = (await openpgp.readKey({ armoredKey })) as openpgp.PrivateKey;
  if (!key.isDecrypted()) key = await openpgp.decryptKey({ privateKey: key, passphrase: passphrase ?? '' });
  const signingSubkey = (await key.getSigningKey(undefined, null)) as openpgp.PrivateKey | openpgp.Subkey;
  return dsseKeyOf({ key, fingerprint: key.getFingerprint().toUpperCase(), signingKeyCreated: signingSubkey.getCreationTime(), signingSubkey, origin: 'environment' });
}

/** A throw-away GnuPG home with two ed25519 keys: the release key and another one. */
export class TestGpg implements Signer {
  home = '';
  fingerprint = '';
  otherFingerprint = '';

  /** With `signingSubkey`, the release key is a certify-only primary key with an Ed25519 signing subkey. */
  async init(options: { signingSubkey?: boolean } = {}): Promise<void> {
    this.home = await mkdtemp(join(tmpdir(), 'helix-pyv-gpg-'));
    this.fingerprint = this.genKey('Helix Test Release <release@example.invalid>', options.signingSubkey ? 'cert' : 'sign');
    if (options.signingSubkey) this.gpg(['--quick-add-key', this.fingerprint, 'ed25519', 'sign', 'never']);
    this.otherFingerprint = this.genKey('Someone Else <else@example.invalid>');
  }

  gpg(args: readonly string[]): string {
    return mustRun('gpg', ['--homedir', this.home, '--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', ...args]);
  }

  private genKey(uid: string, usage: 'sign' | 'cert' = 'sign'): string {
    this.gpg(['--quick-gen-key', uid, 'ed25519', usage, 'never']);
    const listing = this.gpg(['--with-colons', '--fingerprint', uid]);
    const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(listing)?.[1];
    if (!fpr) throw new Error(`no fingerprint for ${uid}:\n${listing}`);
    return fpr;
  }

  /** A detached signature of `file` made with extra gpg options (e.g. no --armor), as bytes. */
  signWith(file: string, options: readonly string[], signers: readonly string[] = [this.fingerprint]): Buffer {
    const out = `${file}.variant`;
    this.gpg(['--yes', ...signers.flatMap((f) => ['--local-user', f]), '--detach-sign', ...options, '--output', out, file]);
    const bytes = readFileSync(out);
    rmSync(out);
    return bytes;
  }

  /** Detached armoured signature `<file>.asc`, by the release key unless `fpr` says otherwise. */
  sign(file: string, fpr = this.fingerprint): void {
    this.gpg(['--yes', '--local-user', fpr, '--detach-sign', '--armor', '--output', `${file}.asc`, file]);
  }

  publicKey(fpr = this.fingerprint): string {
    return this.gpg(['--armor', '--export', fpr]);
  }

  private readonly dsseKeys = new Map<string, Promise<DsseKey>>();
  /** The DSSE key of `fpr` (the release key unless it says otherwise). */
  dsseKey(fpr = this.fingerprint): Promise<DsseKey> {
    if (!this.dsseKeys.has(fpr)) this.dsseKeys.set(fpr, dsseKeyOfArmor(this.secretKey(fpr)));
    return this.dsseKeys.get(fpr)!;
  }

  /** `<file>.dsse.json` of `payload` (default: the file's bytes), by the release key unless `fpr` says otherwise. */
  async envelope(file: string, payload?: Buffer, fpr = this.fingerprint): Promise<void> {
    writeFileSync(dsseName(file), dsseEnvelope(await this.dsseKey(fpr), payload ?? readFileSync(file)));
  }

  secretKey(fpr = this.fingerprint): string {
    return this.gpg(['--armor', '--export-secret-keys', fpr]);
  }

  /**
   * The public key export of `fpr` carrying a revocation made now (after the
   * good release was signed). It is imported into a scratch home only: the
   * other cases still sign with the key here.
   */
  revokedPublicKey(reason: 'compromised' | 'superseded', fpr = this.fingerprint): string {
    const cert = join(this.home, `revocation-${reason}.asc`);
    // --gen-revoke refuses --batch, so it answers on --command-fd: "Create a revocation certificate? y",
    // the reason (1 compromised, 2 superseded), an empty description, "Is this okay? y".
    const made = spawnSync('gpg', ['--homedir', this.home, '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', '--command-fd', '0', '--yes', '--armor', '--output', cert, '--gen-revoke', fpr], {
      input: `y\n${reason === 'compromised' ? 1 : 2}\n\ny\n`,
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (made.status !== 0) throw new Error(`gpg --gen-revoke exited with ${made.status}:\n${made.stdout}${made.stderr}`);
    const scratch = new TestGpg();
    scratch.home = mkdtempSync(join(tmpdir(), 'helix-pyv-revoked-'));
    try {
      writeFileSync(join(scratch.home, 'key.asc'), this.publicKey(fpr));
      scratch.gpg(['--import', join(scratch.home, 'key.asc'), cert]);
      return scratch.publicKey(fpr);
    } finally {
      spawnSync('gpgconf', ['--homedir', scratch.home, '--kill', 'all'], { encoding: 'utf8' });
      rmSync(scratch.home, { recursive: true, force: true });
    }
  }

  async dispose(): Promise<void> {
    if (!this.home) return;
    spawnSync('gpgconf', ['--homedir', this.home, '--kill', 'all'], { encoding: 'utf8' });
    await rm(this.home, { recursive: true, force: true });
  }
}

/** Ways to build a release that is consistent (and signed) but wrong in one respect. */
export interface Tweaks {
  /** The plugin zip to ship (default: the trust table's good.zip). */
  pluginZip?: string;
  /** Bind the plugin's SBOM to this sha256 instead of the plugin's. */
  pluginSbomDigest?: string;
  conformanceResult?: 'PASSED' | 'FAILED';
  /** Leave this path out of the provenance subjects. */
  dropSubject?: string;
  /** Record in the conformance results that the installer tested had this sha256 (other bytes). */
  conformanceInstallerDigest?: string;
  /** Say in BUILD_META.txt and the provenance that the tree was dirty. */
  dirty?: boolean;
  /** Edits BUILD_META.txt's text before it is digested and signed. */
  editMeta?: (text: string) => string;
  /** Edits the provenance statement before it is written and signed. */
  editStatement?: (statement: { subject: { name: string; digest: { sha256: string } }[]; predicate: any }) => void;
  /** Edits the conformance results before they are summed. */
  editResults?: (results: Record<string, unknown>) => void;
  /** Edits the installer's SPDX document before it is summed. */
  editSbom?: (doc: Record<string, unknown>) => void;
  /** Edits the installer's CycloneDX BOM before it is summed. */
  editCdx?: (bom: Record<string, any>) => void;
  /** Edits the text of these files as they are written (before they are summed and signed). */
  editText?: Record<string, (text: string) => string>;
  /** Puts the installer's SBOM into this subfolder (and names it so in the provenance). */
  sbomFolder?: string;
  /** Replaces the release key's armoured detached signatures of these files (after signing). */
  signatures?: Record<string, (file: string) => Buffer | string>;
}

/** Builds a synthetic release in `dir` (see the file comment), signed by `signer`. */
export async function buildRelease(dir: string, signer: Signer, tweaks: Tweaks = {}): Promise<void> {
  const sbomInstaller = tweaks.sbomFolder ? `${tweaks.sbomFolder}/${SBOM_INSTALLER}` : SBOM_INSTALLER;
  await mkdir(join(dir, 'plugins'), { recursive: true });
  await mkdir(join(dir, 'tools'), { recursive: true });
  const put = async (rel: string, data: string | Buffer) => {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    const edit = tweaks.editText?.[rel];
    await writeFile(join(dir, rel), edit && typeof data === 'string' ? edit(data) : data);
  };
  const digestOf = async (rel: string) => sha256(await readFile(join(dir, rel)));

  await put(INSTALLER, Buffer.from(`PK fake installer of helix-studio 1.0.0\n${'x'.repeat(4096)}\n`));
  await copyFile(tweaks.pluginZip ?? join(CASES_DIR, 'zips', 'good.zip'), join(dir, PLUGIN));
  for (const tool of ['verify_release_signatures.py', 'verify_release_provenance.py']) await copyFile(join(REPO_ROOT, 'tools', tool), join(dir, 'tools', tool));
  await put('tools/conformance.sh', '#!/usr/bin/env bash\necho "1 passed, 0 failed"\n');
  await put('conformance-pack/cases/smoke/args', '--version\n');

  const installerSha = await digestOf(INSTALLER);
  const pluginSha = await digestOf(PLUGIN);
  const spdxDoc = (artifact: string, digest: string): SpdxDocument => {
    const doc: SpdxDocument = {
      spdxVersion: 'SPDX-2.3',
      dataLicense: 'CC0-1.0',
      SPDXID: 'SPDXRef-DOCUMENT',
      name: basename(artifact),
      documentNamespace: `https://anchore.com/syft/file/${basename(artifact)}-random`,
      creationInfo: { created: '2099-01-01T00:00:00Z', creators: ['Tool: syft-1.0.0'] },
      packages: [{ name: basename(artifact), SPDXID: 'SPDXRef-Package', versionInfo: '1.0.0', checksums: [{ algorithm: 'SHA256', checksumValue: digest }] }],
      relationships: [{ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-Package' }],
    };
    return normaliseSpdx(doc, { artifactPath: artifact, sha256: digest, sourceDateEpoch: SDE, organization: 'Helix Synthetic' });
  };
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  const installerSpdx = spdxDoc(INSTALLER, installerSha);
  const installerCdx: Record<string, any> = { ...cyclonedxFromSpdx(installerSpdx, CDX_INSTALLER) };
  const installerSpdxJson = JSON.parse(json(installerSpdx)) as Record<string, unknown>;
  tweaks.editSbom?.(installerSpdxJson);
  tweaks.editCdx?.(installerCdx);
  await put(sbomInstaller, json(installerSpdxJson));
  await put(CDX_INSTALLER, json(installerCdx));
  const pluginSpdx = spdxDoc(PLUGIN, tweaks.pluginSbomDigest ?? pluginSha);
  await put(SBOM_PLUGIN, json(pluginSpdx));
  await put(CDX_PLUGIN, json(cyclonedxFromSpdx(pluginSpdx, CDX_PLUGIN)));

  const results = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [
      { name: INSTALLER, digest: { sha256: tweaks.conformanceInstallerDigest ?? installerSha } },
      { name: PLUGIN, digest: { sha256: pluginSha } },
    ],
    predicateType: 'https://in-toto.io/attestation/test-result/v0.1',
    predicate: {
      result: tweaks.conformanceResult ?? 'PASSED',
      configuration: [{ name: 'conformance-pack', digest: { sha256: sha256('pack') } }],
      passedTests: tweaks.conformanceResult === 'FAILED' ? [] : ['smoke'],
      warnedTests: [],
      failedTests: tweaks.conformanceResult === 'FAILED' ? ['smoke'] : [],
    },
  };
  tweaks.editResults?.(results);
  await put('conformance-results.json', `${JSON.stringify(results, null, 2)}\n`);
  await put('conformance.log', '##### helix-studio-1.0.0-linux-x86_64.zip\nPASS smoke\n');

  const kinds: Record<string, string> = {
    [INSTALLER]: 'installer',
    [PLUGIN]: 'plugin',
    [sbomInstaller]: 'sbom',
    [SBOM_PLUGIN]: 'sbom',
    [CDX_INSTALLER]: 'sbom',
    [CDX_PLUGIN]: 'sbom',
    'conformance-results.json': 'conformance',
    'conformance.log': 'conformance',
  };
  const sbomOf: Record<string, string> = { [INSTALLER]: sbomInstaller, [PLUGIN]: SBOM_PLUGIN };
  const cdxOf: Record<string, string> = { [INSTALLER]: CDX_INSTALLER, [PLUGIN]: CDX_PLUGIN };
  const listed = [INSTALLER, PLUGIN, sbomInstaller, SBOM_PLUGIN, CDX_INSTALLER, CDX_PLUGIN, 'conformance-results.json', 'conformance.log', 'tools/conformance.sh',
    'tools/verify_release_signatures.py', 'tools/verify_release_provenance.py', 'conformance-pack/cases/smoke/args'];
  const lines = await Promise.all(listed.map(async (path) => ({ path, sha256: await digestOf(path) })));
  const sumsText = formatSums(lines);
  await put('SHA256SUMS.txt', sumsText);

  await put('BUILD_META.txt', (tweaks.editMeta ?? ((t: string) => t))(formatBuildMeta({
    tag: TAG, tagged: true, version: '1.0.0', commit: COMMIT, dirty: tweaks.dirty ?? false, sourceDateEpoch: SDE, sourceDate: '2024-01-01T00:00:00Z',
    builder: 'local', platform: 'linux-x86_64', python: '3.11.7', pyinstaller: '6.0.0', uv: '0.4.0', syft: '1.0.0', node: process.versions.node,
    zlib: process.versions.zlib ?? 'unknown', files: lines, versions: [{ path: INSTALLER, version: '1.0.0' }, { path: PLUGIN, version: '1.0.0' }],
  })));

  // Subjects: exactly SHA256SUMS.txt's lines, in its order (parsed back from the text, as the provenance stage does).
  const subjects = sumsText
    .trimEnd()
    .split('\n')
    .map((line) => ({ sha256: line.slice(0, 64), path: line.slice(66) }))
    .filter((l) => l.path !== tweaks.dropSubject)
    .map((l) => ({
      name: l.path,
      digest: { sha256: l.sha256 },
      annotations: { 'helix.kind': kinds[l.path] ?? 'tool', ...(sbomOf[l.path] ? { 'helix.sbom': sbomOf[l.path] } : {}), ...(cdxOf[l.path] ? { 'helix.cyclonedx': cdxOf[l.path] } : {}), ...(l.path === INSTALLER || l.path === PLUGIN ? { 'helix.version': '1.0.0' } : {}) },
    }));
  const source = { uri: `git+https://example.invalid/helix.git@refs/tags/${TAG}`, digest: { gitCommit: COMMIT } };
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: subjects,
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://helix-release.invalid/provenance/nx-release/v1',
        externalParameters: { version: '1.0.0', tag: TAG, targets: ['helix-studio'], releaseConfig: { name: 'release.config.ts', digest: { sha256: sha256('config') } }, source },
        internalParameters: { sourceDateEpoch: SDE, platform: 'linux-x86_64', imported: false, dirty: tweaks.dirty ?? false },
        resolvedDependencies: [source],
      },
      runDetails: {
        builder: { id: 'https://helix-release.invalid/builder/local' },
        metadata: {},
        byproducts: await Promise.all(['BUILD_META.txt', 'conformance-results.json', 'conformance.log'].map(async (name) => ({ name, digest: { sha256: await digestOf(name) } }))),
      },
    },
  };
  tweaks.editStatement?.(statement);
  await put('release-provenance.intoto.json', `${JSON.stringify(statement, null, 2)}\n`);

  for (const file of ['SHA256SUMS.txt', 'BUILD_META.txt', 'release-provenance.intoto.json', sbomInstaller, SBOM_PLUGIN, CDX_INSTALLER, CDX_PLUGIN, 'conformance-results.json', 'conformance.log']) {
    await signer.sign(join(dir, file));
    const replace = tweaks.signatures?.[file];
    if (replace) await writeFile(join(dir, `${file}.asc`), replace(join(dir, file)));
  }
  // DSSE envelopes, made as the sign stage makes them (packages/sign/src/lib/sign.ts).
  const dsse = await signer.dsseKey();
  const envelope = async (file: string, payload: Buffer) => writeFile(join(dir, dsseName(file)), dsseEnvelope(dsse, payload));
  await envelope('release-provenance.intoto.json', await readFile(join(dir, 'release-provenance.intoto.json')));
  const resultsBytes = await readFile(join(dir, 'conformance-results.json'));
  const parsedResults = (() => {
    try {
      return JSON.parse(resultsBytes.toString('utf8')) as { _type?: unknown } | null;
    } catch {
      return undefined;
    }
  })();
  if (parsedResults?._type === 'https://in-toto.io/Statement/v1') await envelope('conformance-results.json', resultsBytes);
  for (const sbom of [sbomInstaller, SBOM_PLUGIN, CDX_INSTALLER, CDX_PLUGIN]) {
    const format = sbomFormatOf(basename(sbom))!;
    const artifact = lines.find((l) => sbomName(l.path, format) === basename(sbom))!;
    await envelope(sbom, sbomStatementPayload(artifact, JSON.parse(await readFile(join(dir, sbom), 'utf8')), format));
  }
  await put(PUBLIC_KEY_PEM, publicKeyPem(dsse));
  await put(PUBLIC_KEY, signer.publicKey());
  await put(FINGERPRINT_FILE, `${signer.fingerprint}\n`);
}
