/**
 * Offline verification of a release folder: the checks of
 * docs/release-format.md, one result line per check. Needs no network, no
 * git checkout and no Nx: only the published files.
 */
import { createReadStream } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { listFiles, sha256File } from '@helix-release/core';
import {
  DEVELOPMENT_KEY_LABEL,
  DSSE_PAYLOAD_TYPE,
  DSSE_SUFFIX,
  SBOM_ANNOTATIONS,
  SBOM_FORMATS,
  SBOM_PREDICATE_TYPES,
  dsseName,
  dsseRequiredFiles,
  dsseTargetKind,
  parseDsseEnvelope,
  dssePae,
  RELEASE_FILES,
  SLSA_PROVENANCE_V1,
  checkReleasePath,
  compareBytes,
  STATEMENT_TYPE,
  TEST_RESULT_V01,
  isEvidenceFile,
  isPluginFile,
  isReleaseError,
  isSbomFile,
  isSignatureFile,
  parseBuildMeta,
  parseJsonUnique,
  printable,
  sbomFormatOf,
  sbomName,
  parseSums,
  uuidV5,
  type ProvenanceStatement,
  type SbomFormat,
  type ReleaseCheckName,
  type SumLine,
  type VerdictCode,
} from '@helix-release/format';
import { armorProblem } from './armor';
import { dsseSignatureValid, dsseSigners, pemDer, type DsseSigner } from './dsse';
import { verifyPluginFile } from './plugin';
import type { TrustStore } from './trust-store';

/** One result line. */
export interface CheckResult {
  /** WARN: a finding the user accepted with a flag (--allow-development-key, --allow-dirty). */
  status: 'PASSED' | 'FAILED' | 'SKIPPED' | 'WARN';
  check: string;
  /** A {@link VerdictCode} for release checks; a plugin code for plugin checks. */
  code?: string;
  file?: string;
  reason?: string;
}

/** What to verify against. */
export interface VerifyOptions {
  /** The pinned signing key fingerprint. */
  fingerprint?: string;
  /** Accept release-signing-key-fingerprint.txt as the pin (trust on first use). */
  tofu?: boolean;
  /** Expected source commit. */
  commit?: string;
  /** Expected tag. */
  tag?: string;
  /** Trust store for the plugins' SIGNATURE.ed25519. */
  trustStore?: TrustStore;
  /** Accept a release signed with a development key (a WARN line instead of KEY_DEVELOPMENT). */
  allowDevelopmentKey?: boolean;
  /** Accept a release built from a dirty tree (a WARN line instead of BUILD_DIRTY). */
  allowDirty?: boolean;
}

/** A subject as read from a published statement: nothing in it is trusted to be there. */
interface Subject {
  name: string;
  digest?: { sha256?: string };
  annotations?: Record<string, string>;
}

/** The statement as read back: the published type, every field optional until checked. */
type ReadStatement = Partial<Pick<ProvenanceStatement, '_type' | 'predicateType'>> & {
  subject?: Subject[];
  predicate?: {
    buildDefinition?: { externalParameters?: { source?: { digest?: { gitCommit?: string } }; tag?: string } };
    runDetails?: { byproducts?: Subject[] };
  } & { buildDefinition?: { internalParameters?: { dirty?: unknown } } };
};

const REQUIRED_SIGNED = [RELEASE_FILES.sums, RELEASE_FILES.meta, RELEASE_FILES.provenance, RELEASE_FILES.conformanceResults];

/** Formats a result as its output line. */
export function formatResult(r: CheckResult): string {
  // Names and reasons quote the release's own file names: escaped, so that none can forge a line.
  const file = printable(r.file ?? '-');
  const reason = printable(r.reason ?? '');
  if (r.status === 'FAILED') return `FAILED ${r.code}: ${file}: ${reason}`;
  if (r.status === 'SKIPPED') return `SKIPPED ${r.check}: ${reason}`;
  if (r.status === 'WARN') return `WARN ${r.code}: ${file}: ${reason}`;
  return `PASSED ${r.check}: ${file}${reason ? ` (${reason})` : ''}`;
}

/**
 * What the entry `rel` of the release is when it is not a regular file
 * ("missing", "a symbolic link", "a FIFO", ...), or undefined for a regular
 * file. A symbolic link is never followed, and nothing but a regular file is
 * opened: a FIFO would block the verifier, a link could lead outside the folder.
 */
async function notRegular(dir: string, rel: string): Promise<string | undefined> {
  let info;
  try {
    info = await lstat(join(dir, rel));
  } catch {
    return 'missing';
  }
  if (info.isFile()) return undefined;
  if (info.isSymbolicLink()) return 'a symbolic link';
  if (info.isFIFO()) return 'a FIFO';
  if (info.isSocket()) return 'a socket';
  if (info.isBlockDevice() || info.isCharacterDevice()) return 'a device';
  return info.isDirectory() ? 'a folder' : 'not a regular file';
}

/** A .asc is read whole up to this size (as MAX_SIGNATURE_BYTES in the Python tool). */
const MAX_SIGNATURE_BYTES = 1024 * 1024;

async function readLoose(dir: string, name: string): Promise<string | undefined> {
  try {
    if (await notRegular(dir, name)) return undefined;
    return await readFile(join(dir, name), 'utf8');
  } catch {
    return undefined;
  }
}

/** What readText gives for a file whose bytes are not UTF-8 (a malformed record, as the Python tools say). */
const NOT_UTF8 = Symbol('not UTF-8');

/** JSON with every key once (parseJsonUnique); throws for bytes that are not UTF-8. */
function parseRecord(text: string | typeof NOT_UTF8): unknown {
  if (text === NOT_UTF8) throw new SyntaxError('not UTF-8');
  return parseJsonUnique(text);
}

/** A record's text: undefined when it is missing or not a regular file, NOT_UTF8 when its bytes are not UTF-8. */
async function readText(dir: string, name: string): Promise<string | undefined | typeof NOT_UTF8> {
  let bytes: Buffer;
  try {
    if (await notRegular(dir, name)) return undefined;
    bytes = await readFile(join(dir, name));
  } catch {
    return undefined;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return NOT_UTF8;
  }
}

/** release-signing-key-fingerprint.txt without its one final newline; undefined when missing, not a regular file, over 1 KiB or not ASCII. */
async function readPublishedFingerprint(dir: string): Promise<string | undefined> {
  try {
    if (await notRegular(dir, RELEASE_FILES.fingerprint)) return undefined;
    const bytes = await readFile(join(dir, RELEASE_FILES.fingerprint));
    if (bytes.length > 1024 || bytes.some((b) => b > 0x7f)) return undefined;
    const text = bytes.toString('ascii');
    return text.endsWith('\n') ? text.slice(0, -1) : text;
  } catch {
    return undefined;
  }
}

function normaliseFpr(value: string): string {
  return value.replace(/\s+/g, '').replace(/^0x/i, '').toUpperCase();
}

/** What the checks learn about the release, in order, and the lines they print. */
interface VerifyRun {
  dir: string;
  options: VerifyOptions;
  /** Every file of the release folder. */
  present: string[];
  out: CheckResult[];
  /** The pinned key, once the key check accepted it. */
  key?: openpgp.Key;
  /** SHA256SUMS.txt, once parsed. */
  sums?: SumLine[];
  /** The provenance's subjects, once the statement is usable. */
  subjects: Subject[];
  /** The statement, once usable: the checks that need it are SKIPPED otherwise rather than failed a second time. */
  statement?: ReadStatement;
  /** BUILD_META.txt's fields, once parsed. */
  metaFields?: Map<string, string>;
  /** BUILD_META.txt's `version <path>` lines, by path, once parsed. */
  metaVersions?: Map<string, string>;
}

/** One named check of the verified install flow. */
interface ReleaseCheck {
  name: ReleaseCheckName;
  run(run: VerifyRun, report: Reporter): Promise<void>;
}

/** Appends result lines for one check. */
interface Reporter {
  pass(file?: string, reason?: string): void;
  fail(code: VerdictCode, file: string, reason: string): void;
  skip(reason: string): void;
  /** FAILED, or WARN when the user accepted this finding with a flag. */
  refuse(accepted: boolean | undefined, code: VerdictCode, file: string, reason: string, flag: string): void;
}

function reporter(run: VerifyRun, check: string): Reporter {
  return {
    pass: (file, reason) => run.out.push({ status: 'PASSED', check, file, reason }),
    fail: (code, file, reason) => run.out.push({ status: 'FAILED', check, code, file, reason }),
    skip: (reason) => run.out.push({ status: 'SKIPPED', check, reason }),
    refuse: (accepted, code, file, reason, flag) =>
      run.out.push({ status: accepted ? 'WARN' : 'FAILED', check, code, file, reason: accepted ? `${reason} (accepted with ${flag})` : `${reason}; pass ${flag} to accept it` }),
  };
}

const signatures = (run: VerifyRun) => run.present.filter(isSignatureFile);
const sumsLines = (sums: readonly SumLine[]) => sums.map((l) => `${l.sha256}  ${l.path}`).sort();

/**
 * The key's own revocation in force now (the latest of its revocation
 * signatures that verifies), or undefined; one that does not verify (forged,
 * damaged, or a third party's) revokes nothing, as gpg drops it on import.
 */
async function revocationOf(key: openpgp.Key): Promise<openpgp.SignaturePacket | undefined> {
  let latest: openpgp.SignaturePacket | undefined;
  for (const sig of key.revocationSignatures) {
    try {
      await sig.verify(key.keyPacket, openpgp.enums.signature.keyRevocation, { key: key.keyPacket });
    } catch {
      continue;
    }
    if (!latest || (sig.created?.getTime() ?? 0) > (latest.created?.getTime() ?? 0)) latest = sig;
  }
  return latest;
}

/** A revocation's reason code in words (RFC 4880 §5.2.3.23; the same words as the Python tool). */
function revocationReason(flag: number | null): string {
  const words: Record<number, string> = { 0: 'no reason given', 1: 'key superseded', 2: 'key compromised', 3: 'key retired' };
  return words[flag ?? 0] ?? `reason code ${flag}`;
}

/** The pinned key: present, public only, the pinned fingerprint, not revoked, valid. */
const keyCheck: ReleaseCheck = {
  name: 'key',
  async run(run, r) {
    const { dir, options } = run;
    if (signatures(run).length === 0) {
      r.fail('UNSIGNED', dir, 'the release has no .asc signatures: it is unsigned and cannot be verified');
      return;
    }
    const armored = await readLoose(dir, RELEASE_FILES.publicKey);
    let key: openpgp.Key | undefined;
    if (armored === undefined) return r.fail('KEY_MISSING', RELEASE_FILES.publicKey, 'missing; it is needed to check the signatures');
    if (armorProblem(armored)) return r.fail('KEY_MISSING', RELEASE_FILES.publicKey, `not a usable key export: ${armorProblem(armored)}`);
    try {
      key = await openpgp.readKey({ armoredKey: armored });
    } catch {
      return r.fail('KEY_MISSING', RELEASE_FILES.publicKey, 'not an armoured OpenPGP public key');
    }
    if (key.isPrivate()) return r.fail('KEY_MISSING', RELEASE_FILES.publicKey, 'holds SECRET key material; the release leaks its signing key');
    const actual = key.getFingerprint().toUpperCase();
    const published = await readPublishedFingerprint(dir);
    const pinned = options.fingerprint ? normaliseFpr(options.fingerprint) : undefined;
    if (!pinned && !options.tofu) return r.fail('KEY_NOT_PINNED', RELEASE_FILES.publicKey, 'pass --fingerprint <the fingerprint you got from the project>, or --tofu to trust release-signing-key-fingerprint.txt');
    if (pinned && pinned !== actual) return r.fail('KEY_MISMATCH', RELEASE_FILES.publicKey, `the release is signed by ${actual}, not by the pinned ${pinned}`);
    // The published fingerprint is part of the release: exactly the key's, one line of 40 upper-case hex digits.
    if (published === undefined) return r.fail('KEY_MISSING', RELEASE_FILES.fingerprint, `missing or unreadable; it must hold the signing key's fingerprint (${actual})`);
    if (!/^[0-9A-F]{40}$/.test(published)) return r.fail('KEY_MISMATCH', RELEASE_FILES.fingerprint, 'is not one line of 40 upper-case hex digits');
    if (published !== actual) {
      return pinned
        ? r.fail('KEY_MISMATCH', RELEASE_FILES.fingerprint, `says ${published}, the key is ${actual}`)
        : r.fail('KEY_MISMATCH', RELEASE_FILES.publicKey, `its fingerprint is ${actual} but ${RELEASE_FILES.fingerprint} says ${published}`);
    }
    // A revoked key vouches for nothing, not even what it signed before the revocation (as gpg: REVKEYSIG).
    const revocation = await revocationOf(key);
    if (revocation) {
      return r.fail('KEY_REVOKED', RELEASE_FILES.publicKey, `revoked by its owner on ${revocation.created?.toISOString()} (${revocationReason(revocation.reasonForRevocationFlag)}): none of its signatures can be trusted, whenever they were made; the release must be re-signed with a valid key (check the project's announcement of its new key, and pin that fingerprint)`);
    }
    // A changed user ID or self-signature keeps the fingerprint: blame the key export, not every signature.
    const unusable = await key.verifyPrimaryKey().then(() => undefined, (err: Error) => err.message);
    // A key that has expired since is no damage: each signature is judged as of when it was made (as gpg does).
    const expires = await key.getExpirationTime().catch(() => null);
    const expiredSince = unusable !== undefined && /expired/i.test(unusable) && expires instanceof Date;
    if (unusable && !expiredSince) return r.fail('KEY_MISSING', RELEASE_FILES.publicKey, `not a valid key (${unusable}): the key export was changed or damaged`);
    run.key = key;
    // Its signatures still get checked: the verdict on the key is its own line.
    const development = key.getUserIDs().find((uid) => DEVELOPMENT_KEY_LABEL.test(uid));
    if (development) {
      r.refuse(options.allowDevelopmentKey, 'KEY_DEVELOPMENT', RELEASE_FILES.publicKey, `signed with a DEVELOPMENT key (${development}): its private half is public, anyone can sign with it`, '--allow-development-key');
      if (!options.allowDevelopmentKey) return;
    }
    r.pass(RELEASE_FILES.publicKey, `${actual}${options.fingerprint ? ' (pinned)' : ' (trust on first use)'}${expiredSince ? `; expired on ${(expires as Date).toISOString()}, after it signed: each signature is judged as of its own time` : ''}`);
  },
};

/** Every file that must be signed is, and every signature verifies with the pinned key. */
const signatureCheck: ReleaseCheck = {
  name: 'signature',
  async run(run, r) {
    const { dir, present, key } = run;
    const sigs = signatures(run);
    if (sigs.length === 0) return;
    for (const file of [...REQUIRED_SIGNED, ...present.filter(isSbomFile)]) {
      if (!present.includes(`${file}.asc`)) r.fail('SIGNATURE_MISSING', `${file}.asc`, `${file} must be signed`);
    }
    if (!key) return;
    for (const sig of sigs) {
      const target = sig.slice(0, -4);
      if (await notRegular(dir, sig)) {
        r.fail('SIGNATURE_BAD', sig, 'not a regular file');
        continue;
      }
      if (target === '' || target.endsWith('/') || (await notRegular(dir, target))) {
        r.fail('SIGNATURE_BAD', sig, `signs ${target || 'nothing'}, which is not in the release`);
        continue;
      }
      if ((await lstat(join(dir, sig))).size > MAX_SIGNATURE_BYTES) {
        r.fail('SIGNATURE_BAD', sig, `larger than ${MAX_SIGNATURE_BYTES} bytes: not a detached signature`);
        continue;
      }
      const armoredSignature = await readFile(join(dir, sig), 'utf8');
      const problem = armorProblem(armoredSignature);
      if (problem) {
        r.fail('SIGNATURE_BAD', sig, problem);
        continue;
      }
      try {
        const signature = await openpgp.readSignature({ armoredSignature });
        // Exactly one signature packet, over the file's bytes as they are (type 0x00, not a text-mode 0x01 one).
        if (signature.packets.length !== 1) throw new Error(`it holds ${signature.packets.length} signature packets; a .asc of the release holds exactly one`);
        const type = signature.packets[0]!.signatureType;
        if (type !== openpgp.enums.signature.binary) throw new Error(`signature type 0x${(type ?? 0).toString(16).padStart(2, '0')}; expected 0x00 (a binary document signature)`);
        // The signed file is streamed, never read whole (it may be larger than memory, or than a Buffer can be).
        const stream = Readable.toWeb(createReadStream(join(dir, target))) as ReadableStream<Uint8Array>;
        // As of the signature's own time: a key that expired later still vouches for what it signed before.
        const made = signature.packets[0]!.created ?? undefined;
        const result = await openpgp.verify({ message: await openpgp.createMessage({ binary: stream }), signature, verificationKeys: key, format: 'binary', date: made ?? undefined });
        const reader = result.data.getReader();
        while (!(await reader.read()).done);
        await result.signatures[0]!.verified;
        r.pass(sig);
      } catch (err) {
        r.fail('SIGNATURE_BAD', sig, `does not verify over ${target} with the pinned key: ${(err as Error).message}`);
      }
    }
  },
};

/** An envelope or the PEM export is read whole up to these sizes (as MAX_JSON_BYTES and MAX_PEM_BYTES in the Python tool). */
const MAX_ENVELOPE_BYTES = 256 * 1024 * 1024;
const MAX_PEM_BYTES = 1024 * 1024;

/** SHA256SUMS.txt's lines, or undefined when it is missing or malformed (the sums check says which). */
async function readSumsLoose(dir: string): Promise<SumLine[] | undefined> {
  const text = await readText(dir, RELEASE_FILES.sums);
  if (text === undefined || text === NOT_UTF8) return undefined;
  try {
    return parseSums(text, RELEASE_FILES.sums);
  } catch {
    return undefined;
  }
}

/** `release-signing-public-key.pem` holds a signing key of the pinned key (as check_pem in the Python tool). */
async function checkPem(dir: string, signers: Map<string, DsseSigner>, r: Reporter): Promise<void> {
  const pem = RELEASE_FILES.publicKeyPem;
  const kind = await notRegular(dir, pem);
  if (kind === 'missing') return r.fail('DSSE_MISSING', pem, `missing; it holds the key of the DSSE envelopes (the signing key of ${RELEASE_FILES.publicKey})`);
  if (kind) return r.fail('DSSE_INVALID', pem, `is ${kind}, not a regular file`);
  if ((await lstat(join(dir, pem))).size > MAX_PEM_BYTES) return r.fail('DSSE_INVALID', pem, `larger than ${MAX_PEM_BYTES} bytes: not a PEM public key`);
  const der = pemDer((await readFile(join(dir, pem))).toString('latin1'));
  if (!der) return r.fail('DSSE_INVALID', pem, 'not exactly one PEM "PUBLIC KEY" block (SubjectPublicKeyInfo, LF line endings)');
  const match = [...signers.values()].find((s) => s.spki.equals(der));
  if (!match) return r.fail('DSSE_MISMATCH', pem, `holds another key than the signing key of ${RELEASE_FILES.publicKey} (${[...signers.keys()].join(', ') || 'none usable'})`);
  r.pass(pem, `the signing key ${match.keyid} of ${RELEASE_FILES.publicKey}`);
}

/** Equal JSON values (as json_equal in the Python tool): numbers as doubles, objects by their keys in any order. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (typeof a === 'boolean' || typeof b === 'boolean' || typeof a === 'number' || typeof b === 'number' || typeof a === 'string' || typeof b === 'string' || a === null || b === null) return a === b;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (!isObject(a) || !isObject(b)) return false;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && jsonEqual(a[k], b[k]));
}

/** Why the SBOM envelope's payload does not bind `target` (as sbom_binding_problem in the Python tool), or undefined. */
async function sbomBindingProblem(dir: string, target: string, payload: Buffer, sums: readonly SumLine[]): Promise<string | undefined> {
  let st: unknown;
  try {
    st = parseRecord(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(payload));
  } catch {
    return 'its payload is not a JSON Statement (UTF-8, every key once)';
  }
  const subjects = isObject(st) ? st['subject'] : undefined;
  const format = sbomFormatOf(target.split('/').pop()!) ?? 'spdx';
  const predicateType = SBOM_PREDICATE_TYPES[format];
  if (!isObject(st) || st['_type'] !== STATEMENT_TYPE || st['predicateType'] !== predicateType || !Array.isArray(subjects) || subjects.length !== 1) {
    return `its payload is not an in-toto Statement v1 (${STATEMENT_TYPE}) with predicateType ${predicateType} and one subject`;
  }
  const subject: unknown = subjects[0];
  const name = isObject(subject) ? subject['name'] : undefined;
  const digest = isObject(subject) && isObject(subject['digest']) ? subject['digest']['sha256'] : undefined;
  if (typeof name !== 'string' || typeof digest !== 'string') return 'its subject needs a name and a digest.sha256';
  const line = sums.find((l) => l.path === name);
  if (!line || sbomName(name, format) !== target.split('/').pop()) return `its subject ${JSON.stringify(name)} is not the file of ${RELEASE_FILES.sums} that ${target} describes`;
  if (line.sha256 !== digest) return `its subject ${name} has sha256 ${digest}, ${RELEASE_FILES.sums} says ${line.sha256}`;
  const text = await readText(dir, target);
  let doc: unknown;
  try {
    doc = parseRecord(text ?? NOT_UTF8);
  } catch {
    return `${target} is not JSON (UTF-8, every key once): no predicate can equal it`;
  }
  let same = false;
  try {
    same = 'predicate' in st && jsonEqual(doc, st['predicate']);
  } catch {
    /* nested deeper than the stack: not shown equal */
  }
  if (!same) return `its predicate is not the document in ${target}`;
  return undefined;
}

/** One envelope: well-formed, signed by the pinned key, binding its file (as check_envelope in the Python tool). */
async function checkEnvelope(run: VerifyRun, env: string, signers: Map<string, DsseSigner>, sums: () => Promise<SumLine[] | undefined>, r: Reporter): Promise<void> {
  const { dir } = run;
  const target = env.slice(0, -DSSE_SUFFIX.length);
  const kind = dsseTargetKind(target);
  const envKind = await notRegular(dir, env);
  if (envKind) return r.fail('DSSE_INVALID', env, `is ${envKind}, not a regular file`);
  if (!kind) return r.fail('DSSE_INVALID', env, `attests ${target || 'nothing'}; a release has DSSE envelopes of its provenance, its conformance results and its SBOMs only`);
  if (await notRegular(dir, target)) return r.fail('DSSE_MISMATCH', env, `attests ${target}, which is not in the release`);
  if ((await lstat(join(dir, env))).size > MAX_ENVELOPE_BYTES) return r.fail('DSSE_INVALID', env, `larger than ${MAX_ENVELOPE_BYTES} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(await readFile(join(dir, env)));
  } catch {
    return r.fail('DSSE_INVALID', env, 'not UTF-8');
  }
  const parsed = parseDsseEnvelope(text);
  if (typeof parsed === 'string') return r.fail('DSSE_INVALID', env, parsed);
  const { envelope, payload, sig } = parsed;
  if (envelope.payloadType !== DSSE_PAYLOAD_TYPE) return r.fail('DSSE_INVALID', env, `payloadType is ${JSON.stringify(envelope.payloadType)}, not ${DSSE_PAYLOAD_TYPE}`);
  const keyid = envelope.signatures[0]!.keyid;
  const signer = signers.get(keyid);
  if (!signer) return r.fail('DSSE_BAD_SIGNATURE', env, `signed by keyid ${JSON.stringify(keyid)}, which is no signing key of the pinned key (${[...signers.keys()].join(', ') || 'none usable'})`);
  if (!dsseSignatureValid(signer, dssePae(envelope.payloadType, payload), sig)) return r.fail('DSSE_BAD_SIGNATURE', env, `its signature does not verify over its payload with ${keyid}: the envelope was changed`);
  if (kind === 'sbom') {
    const lines = await sums();
    if (!lines) return r.skip(`${env} verifies, but is not bound to its artifact: ${RELEASE_FILES.sums} is missing or malformed`);
    const problem = await sbomBindingProblem(dir, target, payload, lines);
    if (problem) return r.fail('DSSE_MISMATCH', env, problem);
  } else {
    const size = (await lstat(join(dir, target))).size;
    if (size !== payload.length || !(await readFile(join(dir, target))).equals(payload)) return r.fail('DSSE_MISMATCH', env, `its payload is not the bytes of ${target}`);
  }
  r.pass(env, `${kind === 'sbom' ? `a Statement about ${target}'s artifact` : target}, signed by ${keyid}`);
}

/** Every provenance, conformance result and SBOM has a DSSE envelope, each verifies with the pinned key and binds its file; the PEM export is that key. */
const dsseCheck: ReleaseCheck = {
  name: 'dsse',
  async run(run, r) {
    const { present, key } = run;
    if (signatures(run).length === 0) return;
    const has = new Set(present);
    for (const file of dsseRequiredFiles(present)) {
      if (!has.has(dsseName(file))) r.fail('DSSE_MISSING', dsseName(file), `${file} has no DSSE envelope${has.has(file) ? '' : ` (and ${file} itself is missing)`}`);
    }
    const envelopes = present.filter((f) => f.endsWith(DSSE_SUFFIX)).sort(compareBytes);
    if (!key) return r.skip(`${envelopes.length} DSSE envelope(s) not verified: no trusted key (see the key check)`);
    const signers = await dsseSigners(key);
    await checkPem(run.dir, signers, r);
    let sums: Promise<SumLine[] | undefined> | undefined;
    for (const env of envelopes) await checkEnvelope(run, env, signers, () => (sums ??= readSumsLoose(run.dir)), r);
  },
};

/** Every entry of the release folder is a regular file: no symbolic link, FIFO, socket or device. */
const filesCheck: ReleaseCheck = {
  name: 'files',
  async run(run, r) {
    let ok = true;
    for (const f of run.present) {
      const kind = await notRegular(run.dir, f);
      if (kind && kind !== 'missing') {
        r.fail('FILE_NOT_REGULAR', f, `is ${kind}; a release holds regular files only, and no verifier reads through it`);
        ok = false;
      }
    }
    if (ok) r.pass('.', `${run.present.length} regular files`);
  },
};

/** SHA256SUMS.txt parses and every listed file has its digest (`sha256sum -c`). */
const sumsCheck: ReleaseCheck = {
  name: 'sums',
  async run(run, r) {
    const text = await readText(run.dir, RELEASE_FILES.sums);
    if (text === undefined) return r.fail('SUMS_MISSING', RELEASE_FILES.sums, 'missing');
    if (text === NOT_UTF8) return r.fail('SUMS_MALFORMED', RELEASE_FILES.sums, 'not UTF-8');
    try {
      run.sums = parseSums(text, RELEASE_FILES.sums);
    } catch (err) {
      return r.fail('SUMS_MALFORMED', RELEASE_FILES.sums, isReleaseError(err) ? err.message : String(err));
    }
    let ok = true;
    for (const line of run.sums) {
      const kind = await notRegular(run.dir, line.path);
      const digest = kind ? undefined : await sha256File(join(run.dir, line.path)).catch(() => undefined);
      if (digest === undefined) {
        r.fail('SUMS_MISSING_FILE', line.path, `listed in SHA256SUMS.txt but ${kind && kind !== 'missing' ? `not a regular file (${kind})` : 'missing'}`);
        ok = false;
        continue;
      }
      if (digest !== line.sha256) {
        r.fail('SUMS_MISMATCH', line.path, `sha256 is ${digest}, SHA256SUMS.txt says ${line.sha256}`);
        ok = false;
      }
    }
    if (ok) r.pass(RELEASE_FILES.sums, `${run.sums.length} files`);
  },
};

/** Every file of the folder but the evidence files is listed in the sums. */
const coverageCheck: ReleaseCheck = {
  name: 'coverage',
  async run(run, r) {
    if (!run.sums) return r.skip(`${RELEASE_FILES.sums} is missing or malformed`);
    const listed = new Set(run.sums.map((l) => l.path));
    const unlisted = run.present.filter((f) => !listed.has(f) && !isEvidenceFile(f));
    for (const f of unlisted) r.fail('SUMS_UNLISTED', f, 'present in the release but not listed in SHA256SUMS.txt');
    if (unlisted.length === 0) r.pass(RELEASE_FILES.sums, 'every file is listed');
  },
};

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** A git object name: SHA-1 or SHA-256, lower-case hex (docs/release-format.md, "Strictness"). */
const GIT_COMMIT_HEX = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const digestOk = (d: unknown) => isObject(d) && isObject(d['digest']) && typeof d['digest']['sha256'] === 'string' && SHA256_HEX.test(d['digest']['sha256']);

/** Why the statement is not of the documented shape, or undefined (as provenance_problem in tools/verify_release_provenance.py). */
function provenanceProblem(st: unknown): string | undefined {
  if (!isObject(st)) return 'not a JSON object';
  if (st['_type'] !== STATEMENT_TYPE) return `_type is not ${STATEMENT_TYPE}`;
  if (st['predicateType'] !== SLSA_PROVENANCE_V1) return `predicateType is not ${SLSA_PROVENANCE_V1}`;
  const subjects = st['subject'];
  if (!Array.isArray(subjects)) return 'subject is not an array';
  for (const [index, subject] of subjects.entries()) {
    if (!isObject(subject) || typeof subject['name'] !== 'string' || !digestOk(subject)) return `subject[${index}] needs a name and a digest.sha256 of 64 lowercase hex digits`;
    const annotations = subject['annotations'] ?? {};
    if (!isObject(annotations)) return `subject[${index}].annotations is not an object`;
    for (const key of ['helix.kind', ...SBOM_FORMATS.map((f) => SBOM_ANNOTATIONS[f])]) {
      if (key in annotations && typeof annotations[key] !== 'string') return `subject[${index}].annotations[${JSON.stringify(key)}] is not a string`;
    }
  }
  const read = st as ReadStatement;
  if (!isObject(read.predicate?.buildDefinition?.externalParameters)) return 'predicate.buildDefinition.externalParameters is missing';
  const commit = sourceCommitOf(read);
  if (typeof commit !== 'string') return 'predicate.buildDefinition.externalParameters.source.digest.gitCommit is missing';
  if (!GIT_COMMIT_HEX.test(commit)) return 'predicate.buildDefinition.externalParameters.source.digest.gitCommit is not 40 or 64 lowercase hex digits';
  const tag: unknown = read.predicate?.buildDefinition?.externalParameters?.tag;
  if (tag !== undefined && tag !== null && typeof tag !== 'string') return 'externalParameters.tag is not a string';
  if (!Array.isArray(read.predicate?.runDetails?.byproducts)) return 'predicate.runDetails.byproducts is not an array';
  return undefined;
}

/** The statement is an in-toto v1 SLSA v1 statement whose subjects are exactly the sums. */
const provenanceCheck: ReleaseCheck = {
  name: 'provenance',
  async run(run, r) {
    const text = await readText(run.dir, RELEASE_FILES.provenance);
    if (text === undefined) return r.fail('PROVENANCE_MISSING', RELEASE_FILES.provenance, 'missing');
    let st: ReadStatement;
    try {
      st = parseRecord(text) as ReadStatement;
    } catch (err) {
      return r.fail('PROVENANCE_MALFORMED', RELEASE_FILES.provenance, `not JSON: ${(err as Error).message}`);
    }
    const problem = provenanceProblem(st);
    if (problem) return r.fail('PROVENANCE_MALFORMED', RELEASE_FILES.provenance, problem);
    run.statement = st;
    run.subjects = st.subject!;
    if (!run.sums) return r.skip(`subjects not compared: ${RELEASE_FILES.sums} is missing or malformed`);
    const a = run.subjects.map((s) => `${s.digest?.sha256}  ${s.name}`).sort();
    const b = sumsLines(run.sums);
    const missing = b.filter((x) => !a.includes(x));
    const extra = a.filter((x) => !b.includes(x));
    const names = run.subjects.map((s) => s.name);
    const twice = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))].sort(compareBytes);
    if (missing.length || extra.length || twice.length) {
      const problems = [...missing.map((m) => `not a subject: ${m.slice(66)}`), ...extra.map((m) => `not in the sums: ${m.slice(66)}`), ...twice.map((n) => `listed twice: ${JSON.stringify(n)}`)];
      r.fail('PROVENANCE_SUBJECTS', RELEASE_FILES.provenance, `subjects differ from SHA256SUMS.txt (${problems.slice(0, 3).join('; ')})`);
    } else {
      r.pass(RELEASE_FILES.provenance, `${run.subjects.length} subjects equal SHA256SUMS.txt`);
    }
  },
};

const sourceCommitOf = (st: ReadStatement) => st.predicate?.buildDefinition?.externalParameters?.source?.digest?.gitCommit;

/** The statement's source commit is the one the user expects (with --commit). */
const provenanceCommitCheck: ReleaseCheck = {
  name: 'provenance-commit',
  async run(run, r) {
    if (!run.statement) return;
    const commit = sourceCommitOf(run.statement);
    if (!run.options.commit) return r.skip(`built from ${commit ?? 'an unrecorded commit'}; pass --commit to check it`);
    if (commit === run.options.commit) r.pass(RELEASE_FILES.provenance, commit);
    else r.fail('PROVENANCE_COMMIT', RELEASE_FILES.provenance, `built from ${commit ?? 'an unrecorded commit'}, expected ${run.options.commit}`);
  },
};

/** The statement's tag is the one the user expects (with --tag). */
const provenanceTagCheck: ReleaseCheck = {
  name: 'provenance-tag',
  async run(run, r) {
    if (!run.statement) return;
    const tag = run.statement.predicate?.buildDefinition?.externalParameters?.tag;
    if (!run.options.tag) return r.skip(`tag ${tag ?? '(none)'}; pass --tag to check it`);
    if (tag === run.options.tag) r.pass(RELEASE_FILES.provenance, tag);
    else r.fail('PROVENANCE_TAG', RELEASE_FILES.provenance, `tag is ${tag ?? 'absent'}, expected ${run.options.tag}`);
  },
};

/** Every byproduct the statement names has its digest. */
const byproductCheck: ReleaseCheck = {
  name: 'provenance-byproduct',
  async run(run, r) {
    for (const [index, bp] of (run.statement?.predicate?.runDetails?.byproducts ?? []).entries()) {
      if (!isObject(bp) || typeof bp.name !== 'string' || !digestOk(bp)) {
        r.fail('PROVENANCE_BYPRODUCT', RELEASE_FILES.provenance, `byproducts[${index}] needs a name and a digest.sha256`);
        continue;
      }
      // Never read outside the release folder.
      const problem = checkReleasePath(bp.name);
      if (problem) {
        r.fail('PROVENANCE_BYPRODUCT', RELEASE_FILES.provenance, `byproducts[${index}] ${JSON.stringify(bp.name)} is not a release path (${problem})`);
        continue;
      }
      const digest = (await notRegular(run.dir, bp.name)) ? undefined : await sha256File(join(run.dir, bp.name)).catch(() => undefined);
      if (digest !== bp.digest?.sha256) r.fail('PROVENANCE_BYPRODUCT', bp.name, digest ? `sha256 ${digest}, the statement says ${bp.digest?.sha256}` : 'missing');
      else r.pass(bp.name);
    }
  },
};

/** BUILD_META.txt lists the sums' files and the provenance's commit. */
const buildMetaCheck: ReleaseCheck = {
  name: 'build-meta',
  async run(run, r) {
    const text = await readText(run.dir, RELEASE_FILES.meta);
    if (text === undefined) return r.fail('META_MISSING', RELEASE_FILES.meta, 'missing');
    if (text === NOT_UTF8) return r.fail('META_MALFORMED', RELEASE_FILES.meta, 'not UTF-8');
    let meta: ReturnType<typeof parseBuildMeta>;
    try {
      meta = parseBuildMeta(text, RELEASE_FILES.meta);
    } catch (err) {
      return r.fail('META_MALFORMED', RELEASE_FILES.meta, isReleaseError(err) ? err.message : String(err));
    }
    run.metaFields = meta.fields;
    run.metaVersions = meta.versions;
    if (!run.sums) return r.skip(`sha256 lines not compared: ${RELEASE_FILES.sums} is missing or malformed`);
    const a = [...meta.files].map(([p, h]) => `${h}  ${p}`).sort();
    const b = sumsLines(run.sums);
    const diff = [...a.filter((x) => !b.includes(x)), ...b.filter((x) => !a.includes(x))];
    if (diff.length) return r.fail('META_MISMATCH', RELEASE_FILES.meta, `its sha256 lines differ from SHA256SUMS.txt (${diff.slice(0, 2).map((d) => d.slice(66)).join(', ')})`);
    if (!run.statement) return r.skip(`commit not compared: no usable ${RELEASE_FILES.provenance}`);
    const commit = sourceCommitOf(run.statement);
    if (meta.fields.get('commit') !== commit) return r.fail('META_MISMATCH', RELEASE_FILES.meta, `commit ${meta.fields.get('commit')} differs from the provenance's ${commit}`);
    r.pass(RELEASE_FILES.meta, `commit ${meta.fields.get('commit')}`);
  },
};

/** The release was built from a clean tree, as both the provenance and BUILD_META.txt say. */
const buildCleanCheck: ReleaseCheck = {
  name: 'build-clean',
  async run(run, r) {
    if (!run.statement && !run.metaFields) return r.skip(`no usable ${RELEASE_FILES.provenance} or ${RELEASE_FILES.meta} to tell`);
    const dirty = [
      ...(run.statement?.predicate?.buildDefinition?.internalParameters?.dirty === true ? [RELEASE_FILES.provenance] : []),
      ...(run.metaFields?.get('dirty') === 'true' ? [RELEASE_FILES.meta] : []),
    ];
    if (dirty.length === 0) return r.pass(run.metaFields ? RELEASE_FILES.meta : RELEASE_FILES.provenance, 'built from a clean tree');
    r.refuse(run.options.allowDirty, 'BUILD_DIRTY', dirty[0]!, `built from a working tree with uncommitted changes (${dirty.join(' and ')} say${dirty.length === 1 ? 's' : ''} dirty): the commit alone does not rebuild it`, '--allow-dirty');
  },
};

/** BUILD_META.txt, the provenance and the file names tell one story of versions (as check_versions in the Python tool). */
const versionsCheck: ReleaseCheck = {
  name: 'versions',
  async run(run, r) {
    const fields = run.metaFields;
    const lines = run.metaVersions ?? new Map<string, string>();
    if (!run.statement || !fields) return r.skip(`needs a usable ${RELEASE_FILES.provenance} and ${RELEASE_FILES.meta}`);
    const before = run.out.length;
    const params = run.statement.predicate?.buildDefinition?.externalParameters as { version?: unknown; tag?: unknown } | undefined;
    const release = params?.version;
    const json = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : 'none');
    if (fields.get('version') !== release) r.fail('VERSION_MISMATCH', RELEASE_FILES.meta, `version ${json(fields.get('version'))}, but ${RELEASE_FILES.provenance} says ${json(release)}`);
    if (typeof params?.tag === 'string' && typeof release === 'string' && params.tag !== release && params.tag !== `v${release}`) {
      r.fail('VERSION_MISMATCH', RELEASE_FILES.provenance, `built from tag ${JSON.stringify(params.tag)}, which is not version ${JSON.stringify(release)}`);
    }
    const artifacts = new Set<string>();
    for (const s of run.subjects) {
      const kind = s.annotations?.['helix.kind'];
      if (kind !== 'installer' && kind !== 'plugin') continue;
      artifacts.add(s.name);
      const version = s.annotations?.['helix.version'];
      const line = lines.get(s.name);
      if (line !== version) {
        r.fail('VERSION_MISMATCH', RELEASE_FILES.meta, `version ${line === undefined ? 'no version line' : JSON.stringify(line)} for ${JSON.stringify(s.name)}, but ${RELEASE_FILES.provenance} says ${json(version)}`);
        continue;
      }
      if (typeof version !== 'string') continue;
      const base = s.name.split('/').pop()!;
      const named = kind === 'plugin' ? base.endsWith(`-${version}.zip`) : base.includes(`-${version}-`);
      if (!named) r.fail('VERSION_MISMATCH', s.name, `its recorded version is ${JSON.stringify(version)}, but the file name says otherwise`);
    }
    for (const path of [...lines.keys()].sort(compareBytes)) {
      if (!artifacts.has(path)) r.fail('VERSION_MISMATCH', RELEASE_FILES.meta, `a version line for ${JSON.stringify(path)}, which is no installer or plugin subject of ${RELEASE_FILES.provenance}`);
    }
    if (!run.out.slice(before).some((o) => o.status === 'FAILED')) r.pass(RELEASE_FILES.meta, `version ${release}; ${artifacts.size} installers and plugins named for their versions`);
  },
};

/**
 * Why an SBOM document does not describe exactly `subject` (as
 * sbom_document_problem in tools/verify_release_provenance.py), or undefined:
 * an SPDX 2.3 document named after the artifact whose documentNamespace ends
 * with the UUIDv5 of its sha256; a CycloneDX 1.6 BOM whose metadata.component
 * carries its sha256, with a urn:uuid serialNumber.
 */
function sbomDocumentProblem(format: SbomFormat, doc: unknown, subject: Subject): string | undefined {
  const d = isObject(doc) ? doc : {};
  const sha256 = subject.digest?.sha256;
  if (format === 'spdx') {
    const expected = uuidV5(`sha256:${sha256}`);
    const namespace = d['documentNamespace'];
    if (d['spdxVersion'] !== 'SPDX-2.3' || d['name'] !== subject.name.split('/').pop() || typeof namespace !== 'string' || !namespace.endsWith(`-${expected}`)) {
      return `does not describe ${subject.name} (sha256 ${sha256}): name or namespace differ`;
    }
    return undefined;
  }
  const metadata = isObject(d['metadata']) ? d['metadata'] : {};
  const component = isObject(metadata['component']) ? metadata['component'] : {};
  const hashes = Array.isArray(component['hashes']) ? (component['hashes'] as unknown[]) : [];
  const serial = d['serialNumber'];
  if (d['bomFormat'] !== 'CycloneDX' || d['specVersion'] !== '1.6') return `is not a CycloneDX 1.6 BOM (bomFormat ${JSON.stringify(d['bomFormat'] ?? null)}, specVersion ${JSON.stringify(d['specVersion'] ?? null)})`;
  if (typeof serial !== 'string' || !/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(serial)) return 'its serialNumber is not a lowercase urn:uuid';
  if (!hashes.some((h) => isObject(h) && h['alg'] === 'SHA-256' && h['content'] === sha256)) {
    return `does not describe ${subject.name} (sha256 ${sha256}): its metadata.component has no SHA-256 hash of those bytes`;
  }
  return undefined;
}

/** Each subject's SBOMs (SPDX, CycloneDX) exist and describe exactly it; no SBOM describes nothing. */
const sbomCheck: ReleaseCheck = {
  name: 'sbom',
  async run(run, r) {
    const referenced = new Set<string>();
    for (const s of run.subjects) {
      for (const format of SBOM_FORMATS) {
        const sbom = s.annotations?.[SBOM_ANNOTATIONS[format]];
        if (!sbom) continue;
        referenced.add(sbom);
        const unsafe = checkReleasePath(sbom);
        if (unsafe) {
          r.fail('SBOM_MISSING', RELEASE_FILES.provenance, `subject ${JSON.stringify(s.name)} names the SBOM ${JSON.stringify(sbom)}, which is not a release path (${unsafe})`);
          continue;
        }
        // One place for each artifact's SBOM: the top of the release folder, named after the artifact.
        const expected = sbomName(s.name, format);
        if (sbom !== expected) {
          r.fail('SBOM_UNBOUND', sbom, `the ${format === 'spdx' ? 'SPDX' : 'CycloneDX'} SBOM of ${JSON.stringify(s.name)} is ${expected} at the top of the release folder, not ${JSON.stringify(sbom)}`);
          continue;
        }
        const text = await readText(run.dir, sbom);
        if (text === undefined) {
          r.fail('SBOM_MISSING', sbom, `the SBOM of ${s.name} is missing`);
          continue;
        }
        let doc: unknown;
        try {
          doc = parseRecord(text);
        } catch {
          /* judged below */
        }
        const problem = sbomDocumentProblem(format, doc, s);
        if (problem) r.fail('SBOM_UNBOUND', sbom, problem);
        else r.pass(sbom, `describes ${s.name}`);
      }
    }
    if (!run.statement) return r.skip(`needs the subjects of a usable ${RELEASE_FILES.provenance}`);
    // An SBOM file name in any folder: one no subject names describes nothing of this release.
    for (const f of run.present.filter((p) => isSbomFile(p.split('/').pop()!))) if (!referenced.has(f)) r.fail('SBOM_ORPHAN', f, 'describes no artifact of this release');
  },
};

/** The conformance results passed, on exactly the bytes the sums list, for every plugin. */
const conformanceCheck: ReleaseCheck = {
  name: 'conformance',
  async run(run, r) {
    const text = await readText(run.dir, RELEASE_FILES.conformanceResults);
    if (text === undefined) return r.fail('CONFORMANCE_MISSING', RELEASE_FILES.conformanceResults, 'the release has no conformance results');
    let res: { _type?: string; subject?: Subject[]; predicateType?: string; predicate?: { result?: string; failedTests?: string[] } } = {};
    try {
      res = parseRecord(text) as typeof res;
    } catch {
      /* judged below */
    }
    if (res?._type !== STATEMENT_TYPE || res.predicateType !== TEST_RESULT_V01 || !Array.isArray(res.subject)) {
      return r.fail('CONFORMANCE_MISSING', RELEASE_FILES.conformanceResults, `not an in-toto v1 test-result statement (_type ${STATEMENT_TYPE}, predicateType ${TEST_RESULT_V01})`);
    }
    const badSubject = res.subject.findIndex((s) => typeof s?.name !== 'string' || typeof s.digest?.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(s.digest.sha256));
    if (badSubject >= 0) return r.fail('CONFORMANCE_MISSING', RELEASE_FILES.conformanceResults, `no usable results: subject[${badSubject}] needs a name and a digest.sha256`);
    if (typeof res.predicate?.result !== 'string') return r.fail('CONFORMANCE_MISSING', RELEASE_FILES.conformanceResults, 'no usable results: predicate.result is missing');
    if (res.predicate.result !== 'PASSED') return r.fail('CONFORMANCE_FAILED', RELEASE_FILES.conformanceResults, `result ${res.predicate?.result}; failed: ${(res.predicate?.failedTests ?? []).join(', ')}`);
    if (!run.sums) return r.skip(`tested files not compared: ${RELEASE_FILES.sums} is missing or malformed`);
    const byName = new Map(run.sums.map((l) => [l.path, l.sha256]));
    const stale = res.subject.filter((s) => byName.get(s.name) !== s.digest?.sha256);
    const tested = new Set(res.subject.map((s) => s.name));
    const untested = run.subjects.filter((s) => s.annotations?.['helix.kind'] === 'plugin' && !tested.has(s.name));
    if (stale.length || untested.length) {
      return r.fail('CONFORMANCE_STALE', RELEASE_FILES.conformanceResults, stale.length ? `tested other bytes of ${stale.map((s) => s.name).join(', ')}` : `did not test ${untested.map((s) => s.name).join(', ')}`);
    }
    r.pass(RELEASE_FILES.conformanceResults, `PASSED on ${res.subject.length} artifacts`);
  },
};

/**
 * Every plugin verifies against the trust store: the provenance's plugins and
 * any zip under plugins/ (a plugin dropped in later is unlisted, and also
 * judged as the plugin it claims to be).
 */
const pluginCheck: ReleaseCheck = {
  name: 'plugin',
  async run(run, r) {
    const plugins = [...new Set([...run.subjects.filter((s) => s.annotations?.['helix.kind'] === 'plugin').map((s) => s.name), ...run.present.filter(isPluginFile)])].sort();
    const trustStore = run.options.trustStore;
    if (!trustStore) return r.skip(`${plugins.length} plugin signatures not checked; pass --trust-store`);
    for (const name of plugins) {
      const unsafe = checkReleasePath(name);
      if (unsafe) {
        run.out.push({ status: 'FAILED', check: 'plugin', code: 'PLUGIN_MALFORMED', file: name, reason: `not a release path (${unsafe})` });
        continue;
      }
      const verdict = (await notRegular(run.dir, name)) ? undefined : await verifyPluginFile(join(run.dir, name), trustStore).catch(() => undefined);
      if (!verdict) {
        run.out.push({ status: 'FAILED', check: 'plugin', code: 'PLUGIN_MALFORMED', file: name, reason: 'listed as a plugin but not a file of the release' });
        continue;
      }
      if (verdict.code === 'PLUGIN_OK') run.out.push({ status: 'PASSED', check: 'plugin', file: name, reason: verdict.reason });
      else run.out.push({ status: 'FAILED', check: 'plugin', code: verdict.code, file: name, reason: `${verdict.entry ? `${verdict.entry}: ` : ''}${verdict.reason}` });
      // The signed plugin.json says which plugin and version this is: the file name must say the same.
      if (verdict.code === 'PLUGIN_OK' && name.split('/').pop() !== `${verdict.name}-${verdict.version}.zip`) {
        r.fail('VERSION_MISMATCH', name, `its signed plugin.json says ${verdict.name} ${verdict.version}: the file would be ${verdict.name}-${verdict.version}.zip`);
      }
    }
  },
};

/** The checks, in the order of the verified install flow (docs/release-format.md). */
export const RELEASE_VERIFY_CHECKS: readonly ReleaseCheck[] = [
  keyCheck,
  signatureCheck,
  dsseCheck,
  filesCheck,
  sumsCheck,
  coverageCheck,
  provenanceCheck,
  provenanceCommitCheck,
  provenanceTagCheck,
  byproductCheck,
  buildMetaCheck,
  buildCleanCheck,
  versionsCheck,
  sbomCheck,
  conformanceCheck,
  pluginCheck,
];

/** Runs every check over the release folder `dir`. */
export async function verifyRelease(dir: string, options: VerifyOptions): Promise<CheckResult[]> {
  const run: VerifyRun = { dir, options, present: await listFiles(dir).catch(() => [] as string[]), out: [], subjects: [] };
  for (const check of RELEASE_VERIFY_CHECKS) await check.run(run, reporter(run, check.name));
  return run.out;
}
