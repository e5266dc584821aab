/**
 * Stage `sign`: detached, ASCII-armoured OpenPGP signatures `<file>.asc` for
 * SHA256SUMS.txt, BUILD_META.txt, release-provenance.intoto.json, every SBOM,
 * the conformance results and log, and every custom stage output; plus
 * `release-signing-public-key.asc` and `release-signing-key-fingerprint.txt`;
 * and, with the same key, DSSE envelopes `<file>.dsse.json` of the provenance,
 * the conformance results (an in-toto Statement) and every SBOM, SPDX and
 * CycloneDX (wrapped in a Statement about its artifact, of predicateType
 * https://spdx.dev/Document/v2.3 or https://cyclonedx.org/bom), with
 * `release-signing-public-key.pem`. Like
 * the `.asc` files they are made after SHA256SUMS.txt, so the sums do not list
 * them.
 *
 * Deterministic: the signature time is SOURCE_DATE_EPOCH (or the signing key's
 * creation time when that is later) and OpenPGP.js adds no random salt
 * notation, so re-signing the same release gives the same bytes.
 *
 * No key: the stage says so loudly and removes any signatures of an earlier
 * run, so the verifier reports the release as unsigned; with
 * `sign.required` it fails instead.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import {
  evictCachedCopies,
  evictionNote,
  listFiles,
  sha256File,
  sha256Hex,
  unaccountedFiles,
  writeFileAtomic,
  writeStageRecord,
  type ArtifactKind,
  type ReleaseArtifact,
  type ReleaseRecords,
  type StageContext,
} from '@helix-release/core';
import { DSSE_SUFFIX, RELEASE_FILES, SIGNATURE_SUFFIX, STATEMENT_TYPE, dsseName, dsseTargetKind, parseSums, sbomFormatOf, sbomName, type SumLine } from '@helix-release/format';
import { dsseEnvelope, dsseKeyOf, publicKeyPem, sbomStatementPayload } from './dsse';
import { SignError } from './errors';
import { KEY_ENV, findKeySource, loadSigningKey, type SigningKey } from './key';

/** Kinds of release files that get their own detached signature. */
export const SIGNED_KINDS: readonly ArtifactKind[] = ['checksums', 'meta', 'provenance', 'sbom', 'conformance', 'custom'];

/** OpenPGP.js settings that make signatures reproducible and the armour plain. */
const DETERMINISTIC = { nonDeterministicSignaturesViaNotation: false, showVersion: false, showComment: false } as const;

/** A detached armoured signature of `data`. */
export async function detachedSignature(key: SigningKey, data: Uint8Array, seconds: number): Promise<string> {
  const date = new Date(Math.max(seconds * 1000, key.signingKeyCreated.getTime()));
  const message = await openpgp.createMessage({ binary: data });
  return openpgp.sign({ message, signingKeys: key.key, detached: true, format: 'armored', date, config: DETERMINISTIC });
}

/** The armoured public key (no secret material, whatever the input was). */
export function publicKeyArmor(key: SigningKey): string {
  return key.key.toPublic().armor({ ...openpgp.config, ...DETERMINISTIC });
}

async function removePreviousSignatures(releaseDir: string): Promise<void> {
  const files = await listFiles(releaseDir).catch(() => [] as string[]);
  await Promise.all(
    files
      .filter((f) => f.endsWith(SIGNATURE_SUFFIX) || f.endsWith(DSSE_SUFFIX) || f === RELEASE_FILES.fingerprint || f === RELEASE_FILES.publicKeyPem)
      .map((f) => rm(join(releaseDir, f), { force: true })),
  );
}

/**
 * The payload of `artifact`'s DSSE envelope, or undefined when it gets none:
 * the provenance's and an in-toto conformance result's own bytes; for an SBOM,
 * a Statement about the artifact it describes, named and digested as in
 * SHA256SUMS.txt (read once, by `sums`).
 */
async function dssePayload(artifact: ReleaseArtifact, data: Buffer, sums: () => Promise<SumLine[]>, file: string): Promise<Buffer | undefined> {
  const kind = dsseTargetKind(artifact.path);
  if (kind === 'provenance' && artifact.kind === 'provenance') return data;
  if (kind === 'conformance' && artifact.kind === 'conformance') {
    let results: unknown;
    try {
      results = JSON.parse(data.toString('utf8'));
    } catch {
      return undefined;
    }
    return (results as { _type?: unknown } | null)?._type === STATEMENT_TYPE ? data : undefined;
  }
  if (kind !== 'sbom' || artifact.kind !== 'sbom') return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(data.toString('utf8'));
  } catch {
    throw new SignError('SIGN_SBOM_UNBOUND', 'is not JSON, so no DSSE statement can carry it; re-run the release', { file });
  }
  const base = artifact.path.split('/').pop()!;
  const format = sbomFormatOf(base) ?? 'spdx';
  const described = (await sums()).filter((l) => sbomName(l.path, format) === base);
  if (described.length !== 1) {
    throw new SignError('SIGN_SBOM_UNBOUND', `${described.length ? `describes ${described.length} files of ${RELEASE_FILES.sums} (${described.map((l) => l.path).join(', ')})` : `describes no file of ${RELEASE_FILES.sums}`}; its DSSE statement needs exactly one subject; re-run the release`, { file });
  }
  return sbomStatementPayload(described[0]!, doc, format);
}

/**
 * The folder guard. Every other stage may be served from the Nx cache, so a
 * file dropped into the release folder after they ran would ship unnoticed;
 * sign runs every time, last, so it checks here that the folder holds only
 * what the stages recorded plus the evidence files, and sweeps what killed
 * atomic writes left (no stage writes beside it).
 */
async function guardReleaseFolder(ctx: StageContext, recorded: readonly ReleaseArtifact[]): Promise<void> {
  const { strays, temps } = await unaccountedFiles(ctx.releaseDir, new Set(recorded.map((a) => a.path)));
  for (const temp of temps) {
    ctx.logger.warn(`removing ${temp}: a temporary file an interrupted run left behind`);
    await rm(join(ctx.releaseDir, temp), { force: true });
  }
  if (strays.length) {
    await removePreviousSignatures(ctx.releaseDir);
    throw new SignError(
      'SIGN_STRAY_FILE',
      `${strays.join(', ')} ${strays.length === 1 ? 'is' : 'are'} in the release folder but no stage of this release produced ${strays.length === 1 ? 'it' : 'them'}; nothing was signed: remove ${strays.length === 1 ? 'it' : 'them'} (or run \`npx nx run release:clean\`) and run the release again`,
      { file: join(ctx.releaseDir, strays[0]!) },
    );
  }
}

/** Runs the stage; returns the files written (empty when unsigned). */
export async function signStage(ctx: StageContext, records: ReleaseRecords): Promise<ReleaseArtifact[]> {
  const recorded = await records.checked(ctx.releaseDir, { hash: false });
  await guardReleaseFolder(ctx, recorded);
  const toSign = recorded.filter((a) => SIGNED_KINDS.includes(a.kind));
  const source = await findKeySource(ctx);
  await removePreviousSignatures(ctx.releaseDir);
  // Every byte the signatures vouch for (through the sums) is what a stage recorded: a file replaced behind its record is refused.
  for (const artifact of recorded) {
    const file = join(ctx.releaseDir, artifact.path);
    if ((await sha256File(file)) !== artifact.sha256) {
      const evicted = await evictCachedCopies(ctx.workspaceRoot, file);
      throw new SignError('SIGN_FILE_CHANGED', `changed since its stage recorded sha256 ${artifact.sha256}${evictionNote(evicted)}; re-run the release`, { file });
    }
  }
  if (!source) {
    if (ctx.config.sign.required) {
      throw new SignError('SIGN_KEY_REQUIRED', `sign.required is true but ${KEY_ENV.key} is not set; pass the armoured private key, ${KEY_ENV.passphrase} and ${KEY_ENV.fingerprint}`, {
        file: ctx.config.file,
      });
    }
    ctx.logger.notice(`THE RELEASE IS UNSIGNED: ${KEY_ENV.key} is not set, so no .asc was written.\n\`helix-release verify\` will report it as unsigned.`);
    await writeStageRecord(ctx.workspaceRoot, { stage: 'sign', project: ctx.project, artifacts: [], data: { signed: false } });
    return [];
  }
  const key = await loadSigningKey(source, ctx.sourceDateEpoch.seconds);
  if (key.origin === 'development-key') {
    ctx.logger.notice(`The release is signed with the DEVELOPMENT key ${key.fingerprint} (${source.where}).\nEveryone has it: a real release sets ${KEY_ENV.key}, ${KEY_ENV.passphrase} and ${KEY_ENV.fingerprint}.`);
  }
  const dsse = dsseKeyOf(key);
  let sumLines: SumLine[] | undefined;
  const sums = async () => (sumLines ??= parseSums(await readFile(join(ctx.releaseDir, RELEASE_FILES.sums), 'utf8'), RELEASE_FILES.sums));
  const written: ReleaseArtifact[] = [];
  const envelopes: string[] = [];
  try {
    for (const artifact of toSign) {
      const data = await readFile(join(ctx.releaseDir, artifact.path));
      // Sign only what the stages recorded: a file changed since is refused.
      if (sha256Hex(data) !== artifact.sha256) {
        throw new SignError('SIGN_FILE_CHANGED', `changed since its stage recorded sha256 ${artifact.sha256}; re-run the release`, { file: join(ctx.releaseDir, artifact.path) });
      }
      const armored = await detachedSignature(key, data, ctx.sourceDateEpoch.seconds);
      const path = `${artifact.path}${SIGNATURE_SUFFIX}`;
      await writeFileAtomic(join(ctx.releaseDir, path), armored);
      written.push({ path, kind: 'signature', sha256: sha256Hex(armored), size: Buffer.byteLength(armored), sbom: false, name: artifact.path });
      const payload = await dssePayload(artifact, data, sums, join(ctx.releaseDir, artifact.path));
      if (payload) {
        const envelope = dsseEnvelope(dsse, payload);
        const name = dsseName(artifact.path);
        await writeFileAtomic(join(ctx.releaseDir, name), envelope);
        written.push({ path: name, kind: 'signature', sha256: sha256Hex(envelope), size: Buffer.byteLength(envelope), sbom: false, name: artifact.path });
        envelopes.push(name);
      }
    }
    const pem = publicKeyPem(dsse);
    await writeFileAtomic(join(ctx.releaseDir, RELEASE_FILES.publicKeyPem), pem);
    written.push({ path: RELEASE_FILES.publicKeyPem, kind: 'signature', sha256: sha256Hex(pem), size: Buffer.byteLength(pem), sbom: false });
    const publicKey = publicKeyArmor(key);
    await writeFileAtomic(join(ctx.releaseDir, RELEASE_FILES.publicKey), publicKey);
    await writeFileAtomic(join(ctx.releaseDir, RELEASE_FILES.fingerprint), `${key.fingerprint}\n`);
    written.push(
      { path: RELEASE_FILES.publicKey, kind: 'signature', sha256: sha256Hex(publicKey), size: Buffer.byteLength(publicKey), sbom: false },
      { path: RELEASE_FILES.fingerprint, kind: 'signature', sha256: sha256Hex(`${key.fingerprint}\n`), size: key.fingerprint.length + 1, sbom: false },
    );
  } catch (err) {
    await removePreviousSignatures(ctx.releaseDir);
    throw err;
  }
  await writeStageRecord(ctx.workspaceRoot, { stage: 'sign', project: ctx.project, artifacts: written, data: { signed: true, fingerprint: key.fingerprint, development: key.origin === 'development-key' } });
  ctx.logger.info(`signed ${toSign.length} files with ${key.fingerprint}: ${toSign.map((a) => a.path).join(', ')}; DSSE envelopes (keyid ${dsse.keyid}): ${envelopes.join(', ') || 'none'}`);
  return written;
}
