/**
 * Differential fuzzing of the three plugin-zip verifiers: packages/verify
 * (TypeScript), the Studio's plugin_zip.py and tools/verify_release_signatures.py.
 * Seeded mutations of the trust-case zips (workspace-fixtures/plugin-trust-cases)
 * and of the corpus committed beside this file go to all three; any verdict
 * code on which they disagree, and any crash (a Python traceback, a TypeScript
 * exception), is a finding. Deterministic for a seed and a count.
 *
 *   node -r @swc-node/register tools/fuzz/plugin-zip-fuzz.ts [--seed N] [--count N] [--save DIR]
 *
 * The suite runs a bounded number (tools/fuzz/plugin-zip-fuzz.spec.ts); run it
 * longer on demand with a larger --count, and commit any finding to corpus/
 * once it is fixed, so that it is replayed on every run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { readZipDirectory } from '@helix-release/core';
import { loadTrustStore, verifyPluginZip } from '@helix-release/verify';
import { rawZip, type RawEntry } from '../../workspace-fixtures/plugin-trust-cases/generate';
import { testPython } from '../../workspace-fixtures/studio/tests/test-python';

const ROOT = resolve(__dirname, '..', '..');
const CASES = join(ROOT, 'workspace-fixtures', 'plugin-trust-cases');
const CORPUS = join(__dirname, 'corpus');
const TRUST_STORE = join(CASES, 'trust-store.json');
const STUDIO_SRC = join(ROOT, 'workspace-fixtures', 'studio', 'src');

/** A small, fast, seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One mutation of `input`: flips, overwrites with interesting values, cuts, splices and duplications. */
export function mutate(input: Buffer, random: () => number): Buffer {
  const pick = (n: number) => Math.floor(random() * n);
  let out = Buffer.from(input);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    if (out.length === 0) return Buffer.from([0x50, 0x4b]);
    const at = pick(out.length);
    switch (pick(7)) {
      case 0: // flip a bit
        out[at] = out[at]! ^ (1 << pick(8));
        break;
      case 1: {
        // overwrite 1, 2 or 4 bytes with an interesting value (sizes, offsets, counts, modes)
        const values = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0xffffffff, 0x800, 0x0314, 0x0014, 0xa1ff, 0x81a4, out.length, at];
        const v = values[pick(values.length)]!;
        const width = [1, 2, 4][pick(3)]!;
        if (at + width <= out.length) width === 1 ? out.writeUInt8(v & 0xff, at) : width === 2 ? out.writeUInt16LE(v & 0xffff, at) : out.writeUInt32LE(v >>> 0, at);
        break;
      }
      case 2: // truncate
        out = out.subarray(0, at);
        break;
      case 3: {
        // delete a run
        const len = 1 + pick(Math.min(64, out.length - at));
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + len)]);
        break;
      }
      case 4: {
        // insert random bytes
        const bytes = Buffer.from(Array.from({ length: 1 + pick(16) }, () => pick(256)));
        out = Buffer.concat([out.subarray(0, at), bytes, out.subarray(at)]);
        break;
      }
      case 5: {
        // duplicate a run elsewhere (records, headers)
        const len = 1 + pick(Math.min(128, out.length - at));
        const to = pick(out.length);
        out = Buffer.concat([out.subarray(0, to), out.subarray(at, at + len), out.subarray(to)]);
        break;
      }
      default: {
        // copy a run over another place
        const len = 1 + pick(Math.min(32, out.length - at));
        const to = pick(out.length);
        out.subarray(at, at + len).copy(out, to);
      }
    }
  }
  return out;
}

/** Names that exercise the name checks of every verifier. */
const NAMES = ['../x.py', '/abs', 'a\\b', 'C:x', 'a/./b', 'a//b', 'x.', 'x ', 'TINY_PLUGIN.PY', 'cafe\u0301', 'caf\u00e9', '\ufeffplugin.json', 'a\nb', 'lib/', 'plugin.json/x', 'SIGNATURE.ed25519', 'x'.repeat(256), '\u0130', 'tiny_plugin.py'];

/**
 * A mutation of the entries rather than the bytes: the zip is read, one entry
 * renamed, dropped, duplicated, given another mode or content (CRC and sizes
 * kept right), and written again with consistent headers, so that the checks
 * after the zip layout (names, manifest, signature, metadata) are reached.
 */
export function mutateEntries(input: Buffer, random: () => number): Buffer | undefined {
  const pick = (n: number) => Math.floor(random() * n);
  let entries: RawEntry[];
  try {
    entries = readZipDirectory(input, 'seed').map((e) => {
      const start = e.localHeaderOffset + 30 + input.readUInt16LE(e.localHeaderOffset + 26) + input.readUInt16LE(e.localHeaderOffset + 28);
      const raw = input.subarray(start, start + e.compressedSize);
      const data = e.method === 8 ? inflateRawSync(raw) : Buffer.from(raw);
      return { name: e.rawName, data, method: e.method === 8 ? 8 : 0, mode: e.externalAttributes >>> 16 || 0o100644, utf8: (e.flags & 0x800) !== 0 };
    });
  } catch {
    return undefined;
  }
  if (entries.length === 0) return undefined;
  const i = pick(entries.length);
  const e = entries[i]!;
  switch (pick(6)) {
    case 0:
      entries[i] = { ...e, name: NAMES[pick(NAMES.length)]! };
      break;
    case 1:
      entries.splice(i, 1);
      break;
    case 2:
      entries.splice(pick(entries.length + 1), 0, { ...e, name: pick(2) ? e.name : NAMES[pick(NAMES.length)]! });
      break;
    case 3:
      entries[i] = { ...e, mode: [0o100644, 0o100755, 0o120777, 0o40755, 0o10644, 0o140755, 0][pick(7)]! };
      break;
    case 4: {
      // Another content, CRC and sizes kept right: a byte flipped, cut, or JSON-ish text.
      const data = Buffer.from(e.data);
      if (data.length && pick(2)) data[pick(data.length)] ^= 1 << pick(8);
      const texts = ['{}', '[]', 'null', '{"name":"../x","version":"1","entry":"a:b"}', '{"name":"tiny","version":"1.0.0","entry":"os:system"}', 'helix-plugin-signature v1\nkey: helix-dev-plugins\ned25519: AAAA\n'];
      entries[i] = { ...e, data: pick(3) ? data : Buffer.from(texts[pick(texts.length)]!) };
      break;
    }
    default:
      entries.reverse();
  }
  return rawZip(entries.map((x) => ({ ...x, crc: crc32(x.data), payload: x.method === 8 ? deflateRawSync(x.data) : x.data })));
}

/** The seeds: every trust-case zip and every corpus file, sorted by name. */
async function seeds(): Promise<{ name: string; data: Buffer }[]> {
  const out: { name: string; data: Buffer }[] = [];
  for (const dir of [join(CASES, 'zips'), CORPUS]) {
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.zip')).sort();
    for (const name of names) out.push({ name, data: await readFile(join(dir, name)) });
  }
  return out;
}

/** One mutant and what each verifier said. */
export interface Finding {
  file: string;
  typescript: string;
  studio: string;
  release: string;
}

const STUDIO_SCRIPT = `
import json, sys, traceback
from helix_studio.plugin_zip import PluginRejected, TrustStore, verify_plugin_zip
trust = TrustStore.load(sys.argv[1])
out = []
for path in sys.argv[2:]:
    try:
        with open(path, "rb") as handle:
            out.append(verify_plugin_zip(handle.read(), trust).trust_code)
    except PluginRejected as err:
        out.append(err.code)
    except Exception:
        out.append("CRASH " + traceback.format_exc().strip().splitlines()[-1])
print(json.dumps(out))
`;

/** Runs `count` mutants (from `seed`) through the three verifiers; returns the disagreements and crashes. */
export async function fuzz(options: { seed: number; count: number; python: string; save?: string }): Promise<{ findings: Finding[]; codes: Map<string, number> }> {
  const random = prng(options.seed);
  const inputs = await seeds();
  const dir = await mkdtemp(join(tmpdir(), 'helix-fuzz-'));
  try {
    const files: string[] = [];
    // Every corpus file as it is first (past findings, replayed), then the mutants.
    for (const name of (await readdir(CORPUS).catch(() => [] as string[])).filter((n) => n.endsWith('.zip')).sort()) {
      files.push(join(dir, `corpus-${name}`));
      await writeFile(files[files.length - 1]!, await readFile(join(CORPUS, name)));
    }
    for (let i = 0; i < options.count; i++) {
      const parent = inputs[Math.floor(random() * inputs.length)]!;
      const file = join(dir, `${String(i).padStart(5, '0')}-${parent.name}`);
      // Half the mutants change the bytes, half the entries (which keeps the zip readable).
      await writeFile(file, (random() < 0.5 ? mutateEntries(parent.data, random) : undefined) ?? mutate(parent.data, random));
      files.push(file);
    }
    const trust = await loadTrustStore(TRUST_STORE);
    const typescript: string[] = [];
    for (const file of files) {
      try {
        typescript.push((await verifyPluginZip(await readFile(file), trust)).code);
      } catch (err) {
        typescript.push(`CRASH ${(err as Error).message}`);
      }
    }
    const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: STUDIO_SRC };
    const studio = JSON.parse(execFileSync(options.python, ['-c', STUDIO_SCRIPT, TRUST_STORE, ...files], { env, encoding: 'utf8', maxBuffer: 64 << 20 })) as string[];
    const run = (() => {
      try {
        return execFileSync(options.python, [join(ROOT, 'tools', 'verify_release_signatures.py'), '--check-plugin', ...files, '--trust-store', TRUST_STORE, '--json'], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
      } catch (err) {
        const e = err as { status?: number; stdout?: string; stderr?: string };
        if (e.status === 1 && e.stdout) return e.stdout; // some plugin failed: the JSON is there
        throw new Error(`verify_release_signatures.py exited ${e.status}: ${e.stderr}`);
      }
    })();
    const release = (JSON.parse(run) as { code?: string; file: string }[]).map((r) => r.code ?? 'NONE');
    const findings: Finding[] = [];
    const codes = new Map<string, number>();
    files.forEach((file, i) => {
      const [a, b, c] = [typescript[i]!, studio[i]!, release[i]!];
      codes.set(a, (codes.get(a) ?? 0) + 1);
      if (a !== b || b !== c || a.startsWith('CRASH') || b.startsWith('CRASH')) findings.push({ file, typescript: a, studio: b, release: c });
    });
    if (options.save && findings.length) for (const f of findings) await writeFile(join(options.save, f.file.split('/').pop()!), await readFile(f.file));
    return { findings, codes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const arg = (flag: string, fallback: string) => {
    const i = process.argv.indexOf(flag);
    return i >= 0 ? process.argv[i + 1]! : fallback;
  };
  testPython().then((python) => fuzz({ seed: Number(arg('--seed', '1')), count: Number(arg('--count', '1000')), python, save: process.argv.includes('--save') ? arg('--save', '.') : undefined })).then(
    ({ findings, codes }) => {
      console.log(`verdicts: ${[...codes].sort().map(([c, n]) => `${c} ${n}`).join(', ')}`);
      for (const f of findings) console.log(`DISAGREE ${f.file.split('/').pop()}: typescript ${f.typescript}, studio ${f.studio}, release tool ${f.release}`);
      console.log(`${findings.length} findings`);
      process.exitCode = findings.length ? 1 : 0;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 2;
    },
  );
}
