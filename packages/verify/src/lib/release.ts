/**
 * Offline verification of a release folder: the checks of
 * docs/release-format.md, one result line per check. Needs no network, no
 * git checkout and no Nx: only the published files.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import {
  RELEASE_FILES,
  isEvidenceFile,
  isReleaseError,
  listFiles,
  parseSums,
  sha256File,
  uuidV5,
  type SumLine,
} from '@helix-release/core';
import { parseBuildMeta } from '@helix-release/build-meta';
import { armorProblem } from './armor';
import { verifyPluginZip } from './plugin';
import type { TrustStore } from './trust-store';

/** One result line. */
export interface CheckResult {
  status: 'PASSED' | 'FAILED' | 'SKIPPED';
  check: string;
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
}

interface Subject {
  name: string;
  digest?: { sha256?: string };
  annotations?: Record<string, string>;
}

const REQUIRED_SIGNED = [RELEASE_FILES.sums, RELEASE_FILES.meta, RELEASE_FILES.provenance, RELEASE_FILES.conformanceResults];

/** Formats a result as its output line. */
export function formatResult(r: CheckResult): string {
  if (r.status === 'FAILED') return `FAILED ${r.code}: ${r.file ?? '-'}: ${r.reason}`;
  if (r.status === 'SKIPPED') return `SKIPPED ${r.check}: ${r.reason}`;
  return `PASSED ${r.check}: ${r.file ?? '-'}${r.reason ? ` (${r.reason})` : ''}`;
}

async function readText(dir: string, name: string): Promise<string | undefined> {
  try {
    return await readFile(join(dir, name), 'utf8');
  } catch {
    return undefined;
  }
}

function normaliseFpr(value: string): string {
  return value.replace(/\s+/g, '').replace(/^0x/i, '').toUpperCase();
}

/** Runs every check over the release folder `dir`. */
export async function verifyRelease(dir: string, options: VerifyOptions): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const pass = (check: string, file?: string, reason?: string) => out.push({ status: 'PASSED', check, file, reason });
  const fail = (check: string, code: string, file: string, reason: string) => out.push({ status: 'FAILED', check, code, file, reason });
  const skip = (check: string, reason: string) => out.push({ status: 'SKIPPED', check, reason });
  const present = await listFiles(dir).catch(() => [] as string[]);

  // --- key and signatures --------------------------------------------------
  const signatures = present.filter((f) => f.endsWith('.asc') && f !== RELEASE_FILES.publicKey);
  if (signatures.length === 0) {
    fail('key', 'UNSIGNED', dir, 'the release has no .asc signatures: it is unsigned and cannot be verified');
  } else {
    const armored = await readText(dir, RELEASE_FILES.publicKey);
    let key: openpgp.Key | undefined;
    if (armored === undefined) {
      fail('key', 'KEY_MISSING', RELEASE_FILES.publicKey, 'missing; it is needed to check the signatures');
    } else if (armorProblem(armored)) {
      fail('key', 'KEY_MISSING', RELEASE_FILES.publicKey, `not a usable key export: ${armorProblem(armored)}`);
    } else {
      try {
        key = await openpgp.readKey({ armoredKey: armored });
      } catch {
        fail('key', 'KEY_MISSING', RELEASE_FILES.publicKey, 'not an armoured OpenPGP public key');
      }
      if (key?.isPrivate()) {
        fail('key', 'KEY_MISSING', RELEASE_FILES.publicKey, 'holds SECRET key material; the release leaks its signing key');
        key = undefined;
      }
    }
    if (key) {
      const actual = key.getFingerprint().toUpperCase();
      const fileFpr = (await readText(dir, RELEASE_FILES.fingerprint))?.trim();
      const pinned = options.fingerprint ? normaliseFpr(options.fingerprint) : options.tofu ? fileFpr && normaliseFpr(fileFpr) : undefined;
      if (!pinned) {
        fail('key', 'KEY_NOT_PINNED', RELEASE_FILES.publicKey, 'pass --fingerprint <the fingerprint you got from the project>, or --tofu to trust release-signing-key-fingerprint.txt');
        key = undefined;
      } else if (pinned !== actual) {
        fail('key', 'KEY_MISMATCH', RELEASE_FILES.publicKey, `the release is signed by ${actual}, not by the pinned ${pinned}`);
        key = undefined;
      } else if (fileFpr !== undefined && normaliseFpr(fileFpr) !== actual) {
        fail('key', 'KEY_MISMATCH', RELEASE_FILES.fingerprint, `says ${fileFpr}, the key is ${actual}`);
        key = undefined;
      } else {
        // A changed user ID or self-signature keeps the fingerprint: blame the key export, not every signature.
        const unusable = await key.verifyPrimaryKey().then(() => undefined, (err: Error) => err.message);
        if (unusable) {
          fail('key', 'KEY_MISSING', RELEASE_FILES.publicKey, `not a valid key (${unusable}): the key export was changed or damaged`);
          key = undefined;
        } else {
          pass('key', RELEASE_FILES.publicKey, `${actual}${options.fingerprint ? ' (pinned)' : ' (trust on first use)'}`);
        }
      }
    }
    const required = [...REQUIRED_SIGNED, ...present.filter((f) => /^SBOM-.*\.spdx\.json$/.test(f))];
    for (const file of required) {
      if (!present.includes(`${file}.asc`)) fail('signature', 'SIGNATURE_MISSING', `${file}.asc`, `${file} must be signed`);
    }
    for (const sig of signatures) {
      const target = sig.slice(0, -4);
      if (!key) continue;
      let data: Buffer;
      try {
        data = await readFile(join(dir, target));
      } catch {
        fail('signature', 'SIGNATURE_BAD', sig, `signs ${target}, which is missing`);
        continue;
      }
      const armoredSignature = await readFile(join(dir, sig), 'utf8');
      const problem = armorProblem(armoredSignature);
      if (problem) {
        fail('signature', 'SIGNATURE_BAD', sig, problem);
        continue;
      }
      try {
        const signature = await openpgp.readSignature({ armoredSignature });
        const result = await openpgp.verify({ message: await openpgp.createMessage({ binary: data }), signature, verificationKeys: key, format: 'binary' });
        await result.signatures[0]!.verified;
        if (result.signatures.length !== 1) throw new Error('expected exactly one signature');
        pass('signature', sig);
      } catch (err) {
        fail('signature', 'SIGNATURE_BAD', sig, `does not verify over ${target} with the pinned key: ${(err as Error).message}`);
      }
    }
  }

  // --- sums and coverage -----------------------------------------------------
  let sums: SumLine[] | undefined;
  const sumsText = await readText(dir, RELEASE_FILES.sums);
  if (sumsText === undefined) {
    fail('sums', 'SUMS_MISSING', RELEASE_FILES.sums, 'missing');
  } else {
    try {
      sums = parseSums(sumsText, RELEASE_FILES.sums);
    } catch (err) {
      fail('sums', 'SUMS_MALFORMED', RELEASE_FILES.sums, isReleaseError(err) ? err.message : String(err));
    }
  }
  if (sums) {
    let ok = true;
    for (const line of sums) {
      let digest: string;
      try {
        if (!(await stat(join(dir, line.path))).isFile()) throw new Error('not a file');
        digest = await sha256File(join(dir, line.path));
      } catch {
        fail('sums', 'SUMS_MISSING_FILE', line.path, 'listed in SHA256SUMS.txt but missing');
        ok = false;
        continue;
      }
      if (digest !== line.sha256) {
        fail('sums', 'SUMS_MISMATCH', line.path, `sha256 is ${digest}, SHA256SUMS.txt says ${line.sha256}`);
        ok = false;
      }
    }
    if (ok) pass('sums', RELEASE_FILES.sums, `${sums.length} files`);
    const listed = new Set(sums.map((l) => l.path));
    const unlisted = present.filter((f) => !listed.has(f) && !isEvidenceFile(f));
    for (const f of unlisted) fail('coverage', 'SUMS_UNLISTED', f, 'present in the release but not listed in SHA256SUMS.txt');
    if (unlisted.length === 0) pass('coverage', RELEASE_FILES.sums, 'every file is listed');
  } else {
    skip('coverage', `${RELEASE_FILES.sums} is missing or malformed`);
  }

  // --- provenance --------------------------------------------------------------
  let subjects: Subject[] = [];
  // False when the statement is missing or unusable: the checks that need
  // its subjects are then SKIPPED rather than failed a second time.
  let statementOk = false;
  let sourceCommit: string | undefined;
  const provText = await readText(dir, RELEASE_FILES.provenance);
  if (provText === undefined) {
    fail('provenance', 'PROVENANCE_MISSING', RELEASE_FILES.provenance, 'missing');
  } else {
    type Statement = {
      _type?: string;
      predicateType?: string;
      subject?: Subject[];
      predicate?: { buildDefinition?: { externalParameters?: { source?: { digest?: { gitCommit?: string } }; tag?: string } }; runDetails?: { byproducts?: Subject[] } };
    };
    let st: Statement | undefined;
    try {
      st = JSON.parse(provText) as Statement;
    } catch {
      fail('provenance', 'PROVENANCE_MALFORMED', RELEASE_FILES.provenance, 'not JSON');
    }
    if (st && (st._type !== 'https://in-toto.io/Statement/v1' || st.predicateType !== 'https://slsa.dev/provenance/v1' || !Array.isArray(st.subject))) {
      fail('provenance', 'PROVENANCE_MALFORMED', RELEASE_FILES.provenance, 'not an in-toto v1 statement with an SLSA v1 predicate');
    } else if (st?.subject) {
      subjects = st.subject;
      statementOk = true;
      const a = subjects.map((s) => `${s.digest?.sha256}  ${s.name}`).sort();
      const b = (sums ?? []).map((l) => `${l.sha256}  ${l.path}`).sort();
      const missing = b.filter((x) => !a.includes(x));
      const extra = a.filter((x) => !b.includes(x));
      if (!sums) {
        skip('provenance', `subjects not compared: ${RELEASE_FILES.sums} is missing or malformed`);
      } else if (missing.length || extra.length) {
        fail('provenance', 'PROVENANCE_SUBJECTS', RELEASE_FILES.provenance, `subjects differ from SHA256SUMS.txt (${[...missing.map((m) => `not a subject: ${m.slice(66)}`), ...extra.map((m) => `not in the sums: ${m.slice(66)}`)].slice(0, 3).join('; ')})`);
      } else {
        pass('provenance', RELEASE_FILES.provenance, `${subjects.length} subjects equal SHA256SUMS.txt`);
      }
      sourceCommit = st.predicate?.buildDefinition?.externalParameters?.source?.digest?.gitCommit;
      if (options.commit) {
        if (sourceCommit === options.commit) pass('provenance-commit', RELEASE_FILES.provenance, sourceCommit);
        else fail('provenance-commit', 'PROVENANCE_COMMIT', RELEASE_FILES.provenance, `built from ${sourceCommit ?? 'an unrecorded commit'}, expected ${options.commit}`);
      } else {
        skip('provenance-commit', `built from ${sourceCommit ?? 'an unrecorded commit'}; pass --commit to check it`);
      }
      const tag = st.predicate?.buildDefinition?.externalParameters?.tag;
      if (options.tag) {
        if (tag === options.tag) pass('provenance-tag', RELEASE_FILES.provenance, tag);
        else fail('provenance-tag', 'PROVENANCE_TAG', RELEASE_FILES.provenance, `tag is ${tag ?? 'absent'}, expected ${options.tag}`);
      } else {
        skip('provenance-tag', `tag ${tag ?? '(none)'}; pass --tag to check it`);
      }
      for (const bp of st.predicate?.runDetails?.byproducts ?? []) {
        const digest = await sha256File(join(dir, bp.name)).catch(() => undefined);
        if (digest !== bp.digest?.sha256) fail('provenance-byproduct', 'PROVENANCE_BYPRODUCT', bp.name, digest ? `sha256 ${digest}, the statement says ${bp.digest?.sha256}` : 'missing');
        else pass('provenance-byproduct', bp.name);
      }
    }
  }

  // --- BUILD_META --------------------------------------------------------------
  const metaText = await readText(dir, RELEASE_FILES.meta);
  if (metaText === undefined) {
    fail('build-meta', 'META_MISSING', RELEASE_FILES.meta, 'missing');
  } else {
    try {
      const meta = parseBuildMeta(metaText, RELEASE_FILES.meta);
      const a = [...meta.files].map(([p, h]) => `${h}  ${p}`).sort();
      const b = (sums ?? []).map((l) => `${l.sha256}  ${l.path}`).sort();
      const diff = [...a.filter((x) => !b.includes(x)), ...b.filter((x) => !a.includes(x))];
      if (!sums) skip('build-meta', `sha256 lines not compared: ${RELEASE_FILES.sums} is missing or malformed`);
      else if (diff.length) fail('build-meta', 'META_MISMATCH', RELEASE_FILES.meta, `its sha256 lines differ from SHA256SUMS.txt (${diff.slice(0, 2).map((d) => d.slice(66)).join(', ')})`);
      else if (!statementOk) skip('build-meta', `commit not compared: no usable ${RELEASE_FILES.provenance}`);
      else if (meta.fields.get('commit') !== sourceCommit) fail('build-meta', 'META_MISMATCH', RELEASE_FILES.meta, `commit ${meta.fields.get('commit')} differs from the provenance's ${sourceCommit}`);
      else pass('build-meta', RELEASE_FILES.meta, `commit ${meta.fields.get('commit')}`);
    } catch (err) {
      fail('build-meta', 'META_MALFORMED', RELEASE_FILES.meta, isReleaseError(err) ? err.message : String(err));
    }
  }

  // --- SBOMs -------------------------------------------------------------------
  const sbomsPresent = present.filter((f) => /^SBOM-.*\.spdx\.json$/.test(f));
  const referenced = new Set<string>();
  for (const s of subjects) {
    const sbom = s.annotations?.['helix.sbom'];
    if (!sbom) continue;
    referenced.add(sbom);
    const text = await readText(dir, sbom);
    if (text === undefined) {
      fail('sbom', 'SBOM_MISSING', sbom, `the SBOM of ${s.name} is missing`);
      continue;
    }
    let doc: { name?: string; documentNamespace?: string; spdxVersion?: string } = {};
    try {
      doc = JSON.parse(text) as typeof doc;
    } catch {
      /* judged below */
    }
    const expected = uuidV5(`sha256:${s.digest?.sha256}`);
    const base = s.name.split('/').pop();
    if (doc.spdxVersion !== 'SPDX-2.3' || doc.name !== base || !doc.documentNamespace?.endsWith(`-${expected}`)) {
      fail('sbom', 'SBOM_UNBOUND', sbom, `does not describe ${s.name} (sha256 ${s.digest?.sha256}): name or namespace differ`);
    } else {
      pass('sbom', sbom, `describes ${s.name}`);
    }
  }
  if (!statementOk) skip('sbom', `needs the subjects of a usable ${RELEASE_FILES.provenance}`);
  else for (const f of sbomsPresent) if (!referenced.has(f)) fail('sbom', 'SBOM_ORPHAN', f, 'describes no artifact of this release');

  // --- conformance --------------------------------------------------------------
  const resultsText = await readText(dir, RELEASE_FILES.conformanceResults);
  if (resultsText === undefined) {
    fail('conformance', 'CONFORMANCE_MISSING', RELEASE_FILES.conformanceResults, 'the release has no conformance results');
  } else {
    let res: { subject?: Subject[]; predicateType?: string; predicate?: { result?: string; failedTests?: string[] } } = {};
    try {
      res = JSON.parse(resultsText) as typeof res;
    } catch {
      /* judged below */
    }
    const byName = new Map((sums ?? []).map((l) => [l.path, l.sha256]));
    const stale = (res.subject ?? []).filter((s) => byName.get(s.name) !== s.digest?.sha256);
    const tested = new Set((res.subject ?? []).map((s) => s.name));
    const untested = subjects.filter((s) => s.annotations?.['helix.kind'] === 'plugin' && !tested.has(s.name));
    if (res.predicateType !== 'https://in-toto.io/attestation/test-result/v0.1' || !Array.isArray(res.subject)) {
      fail('conformance', 'CONFORMANCE_MISSING', RELEASE_FILES.conformanceResults, 'not an in-toto test-result statement');
    } else if (res.predicate?.result !== 'PASSED') {
      fail('conformance', 'CONFORMANCE_FAILED', RELEASE_FILES.conformanceResults, `result ${res.predicate?.result}; failed: ${(res.predicate?.failedTests ?? []).join(', ')}`);
    } else if (!sums) {
      skip('conformance', `tested files not compared: ${RELEASE_FILES.sums} is missing or malformed`);
    } else if (stale.length || untested.length) {
      fail('conformance', 'CONFORMANCE_STALE', RELEASE_FILES.conformanceResults, stale.length ? `tested other bytes of ${stale.map((s) => s.name).join(', ')}` : `did not test ${untested.map((s) => s.name).join(', ')}`);
    } else {
      pass('conformance', RELEASE_FILES.conformanceResults, `PASSED on ${res.subject.length} artifacts`);
    }
  }

  // --- plugins --------------------------------------------------------------------
  // The provenance's plugins, and any zip under plugins/ (a plugin dropped in
  // later is unlisted, and also judged as the plugin it claims to be).
  const plugins = [...new Set([...subjects.filter((s) => s.annotations?.['helix.kind'] === 'plugin').map((s) => s.name), ...present.filter((f) => /^plugins\/.+\.zip$/.test(f))])].sort();
  if (!options.trustStore) {
    skip('plugin', `${plugins.length} plugin signatures not checked; pass --trust-store`);
  } else {
    for (const name of plugins) {
      const buf = await readFile(join(dir, name)).catch(() => undefined);
      if (!buf) continue;
      const verdict = await verifyPluginZip(buf, options.trustStore);
      if (verdict.code === 'PLUGIN_OK') pass('plugin', name, verdict.reason);
      else fail('plugin', verdict.code, name, `${verdict.entry ? `${verdict.entry}: ` : ''}${verdict.reason}`);
    }
  }
  return out;
}
