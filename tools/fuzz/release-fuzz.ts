/**
 * Differential fuzzing of the two release verifiers: `helix-release verify`
 * (packages/verify, TypeScript) and the standalone Python tools
 * (tools/verify_release_signatures.py + tools/verify_release_provenance.py).
 * A good synthetic release (tools/tests/synthetic-release.ts, real gpg
 * signatures) is copied and one file of each copy mutated: JSON values
 * replaced, keys dropped or given twice, array items repeated, lines of the
 * line formats dropped, repeated, swapped or edited, bytes flipped, files
 * removed or replaced by a folder or a link. Then, at random, nothing else
 * (the signatures and sums catch it), or the file is signed again with the
 * release key, or the release is resealed: every digest of the old file in the
 * other records is replaced (and so on up to the sums and the provenance) and
 * every changed file signed again — so that what lies behind the signatures
 * and digests, the parsers and the cross-checks, is reached too. Both
 * verifiers must then give the same verdict and the same set of codes, and
 * neither may crash. Deterministic for a seed and a count.
 *
 *   node -r @swc-node/register tools/fuzz/release-fuzz.ts [--seed N] [--count N] [--save DIR]
 *
 * --save writes each finding as a corpus entry (the mutated file, with the
 * good release's digests written as `{{sha256:<path>}}`, so that it replays
 * after the tools change); commit it to release-corpus/ once fixed, and it is
 * replayed first on every run.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSbomFile, parseSums, sbomFormatOf, sbomName } from '@helix-release/format';
import { sbomStatementPayload } from '@helix-release/sign';
import { loadTrustStore, verifyRelease } from '@helix-release/verify';
import { testPython } from '../../workspace-fixtures/studio/tests/test-python';
import { CASES_DIR, REPO_ROOT, TestGpg, buildRelease } from '../tests/synthetic-release';
import { mutate, prng } from './plugin-zip-fuzz';

const CORPUS = join(__dirname, 'release-corpus');
const TRUST_STORE = join(CASES_DIR, 'trust-store.json');

/** How far a mutant is made consistent again after its one change. */
export type Reseal = 'none' | 'resign' | 'reseal';

/** One committed (or saved) finding: the mutated file and how it was resealed. */
export interface CorpusEntry {
  why: string;
  path: string;
  reseal: Reseal;
  /** The file's new bytes (base64, digests as `{{sha256:<path>}}`); absent: the file was removed. */
  content?: string;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Every regular file of `dir`, relative, sorted. */
async function filesOf(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesOf(dir, child)));
    else if (e.isFile()) out.push(child);
  }
  return out.sort();
}

/** Values a parser or a cross-check should refuse, or treat with care. */
const JSON_VALUES: unknown[] = [
  null, true, false, 0, -1, 1.5, 2 ** 53 + 1, '', ' ', '../x', '/etc/passwd', 'a\nb', 'a\u0000b', 'C:\\x', 'x/../y', './x',
  'A'.repeat(64), '0'.repeat(64), 'g'.repeat(64), 'SPDX-2.2', 'CycloneDX', '1.5', 'SHA-256', 'urn:uuid:x', 'https://in-toto.io/Statement/v0.1', 'https://slsa.dev/provenance/v0.2',
  '1.0.0', '9.9.9', 'v1.0.0', 'FAILED', 'PASSED', [], {}, [null], { sha256: '0'.repeat(64) }, 'x'.repeat(5000), '\u202e', '\ud800',
];

type JsonPath = (string | number)[];

function jsonPaths(value: unknown, at: JsonPath = [], out: JsonPath[] = []): JsonPath[] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => jsonPaths(v, [...at, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) jsonPaths(v, [...at, k], out);
  return out;
}

function getAt(root: unknown, path: JsonPath): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], root);
}

/** A mutation of a JSON document's structure (the text stays valid JSON, except a key given twice). */
function mutateJson(text: string, random: () => number): string | undefined {
  const pick = (n: number) => Math.floor(random() * n);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const paths = jsonPaths(doc).filter((p) => p.length > 0);
  if (!paths.length) return undefined;
  const path = paths[pick(paths.length)]!;
  const parent = getAt(doc, path.slice(0, -1)) as Record<string | number, unknown>;
  const key = path[path.length - 1]!;
  const value = parent[key];
  switch (pick(6)) {
    case 0:
    case 1: // another value
      parent[key] = JSON_VALUES[pick(JSON_VALUES.length)];
      break;
    case 2: // the same string in another case, or with a space around it
      if (typeof value !== 'string') return undefined;
      parent[key] = [value.toUpperCase(), value.toLowerCase(), ` ${value}`, `${value} `, `${value}\n`][pick(5)];
      break;
    case 3: // removed
      if (Array.isArray(parent)) (parent as unknown[]).splice(key as number, 1);
      else delete parent[key];
      break;
    case 4: // repeated (an array item), or one more key
      if (Array.isArray(parent)) (parent as unknown[]).splice(key as number, 0, JSON.parse(JSON.stringify(value)));
      else parent[`${String(key)}${['', 'x', '_'][pick(3)]}extra`] = value;
      break;
    default: {
      // A key given twice: the first with another value, the second the original (which a last-wins reader takes).
      if (Array.isArray(parent) || typeof key !== 'string') return undefined;
      const marker = `__helix_fuzz_duplicate_${pick(1e9)}__`;
      const rebuilt: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(parent)) {
        if (k === key) rebuilt[marker] = JSON_VALUES[pick(JSON_VALUES.length)];
        rebuilt[k] = v;
      }
      if (path.length === 1) doc = rebuilt;
      else (getAt(doc, path.slice(0, -2)) as Record<string | number, unknown>)[path[path.length - 2]!] = rebuilt;
      return `${JSON.stringify(doc, null, 2)}\n`.replace(`"${marker}"`, JSON.stringify(key));
    }
  }
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** A mutation of a line format (sums, BUILD_META, armour, fingerprint, log). */
function mutateLines(text: string, random: () => number): string {
  const pick = (n: number) => Math.floor(random() * n);
  const lines = text.split('\n');
  const i = pick(lines.length);
  const line = lines[i]!;
  const extra = ['', ' ', 'x', 'commit: ' + 'a'.repeat(40), 'version: 9.9.9', `${'0'.repeat(64)}  ../x`, `${'0'.repeat(64)}  /etc/passwd`, `${'0'.repeat(64)} *x`, 'tag: v1.0.0', 'dirty: true', '-----BEGIN PGP SIGNATURE-----', 'sha256 x: 00', 'version x.zip: 1.0.0'];
  switch (pick(9)) {
    case 0:
      lines.splice(i, 1);
      break;
    case 1:
      lines.splice(pick(lines.length + 1), 0, line);
      break;
    case 2: {
      const j = pick(lines.length);
      [lines[i], lines[j]] = [lines[j]!, line];
      break;
    }
    case 3:
      lines[i] = [line.toUpperCase(), line.toLowerCase()][pick(2)]!;
      break;
    case 4:
      lines[i] = [`${line}\r`, `${line} `, ` ${line}`, line.replace(' ', '  '), line.replace(': ', ':'), line.replace('  ', ' *')][pick(6)]!;
      break;
    case 5:
      lines.splice(pick(lines.length + 1), 0, extra[pick(extra.length)]!);
      break;
    case 6: {
      if (!line.length) return text.replace(/\n$/, '');
      const at = pick(line.length);
      const chars = '0aAfFgz:. /\\-\t\u00e9';
      lines[i] = line.slice(0, at) + chars[pick(chars.length)] + line.slice(at + 1);
      break;
    }
    case 7:
      return text.endsWith('\n') ? text.slice(0, -1) : `${text}\n`;
    default:
      return `\ufeff${text}`;
  }
  return lines.join('\n');
}

/** The files a mutation picks from, with a weight toward the signed records. */
const RECORDS = ['SHA256SUMS.txt', 'BUILD_META.txt', 'release-provenance.intoto.json', 'conformance-results.json'];

/** Applies one seeded mutation to the release in `dir`; returns it as a corpus entry (content in raw form). */
async function mutateRelease(dir: string, files: string[], random: () => number): Promise<CorpusEntry> {
  const pick = (n: number) => Math.floor(random() * n);
  const path = random() < 0.5 ? RECORDS[pick(RECORDS.length)]! : files[pick(files.length)]!;
  const reseal: Reseal = (['none', 'resign', 'reseal', 'reseal'] as const)[pick(4)]!;
  const file = join(dir, path);
  const before = await readFile(file);
  const op = pick(20);
  if (op === 0) {
    await rm(file);
    return { why: `removed ${path}`, path, reseal };
  }
  if (op === 1) {
    await rm(file);
    await mkdir(file);
    return { why: `${path} replaced by a folder`, path, reseal: 'none' };
  }
  if (op === 2) {
    await rm(file);
    await symlink(['/etc/hostname', '../outside', join(dir, 'SHA256SUMS.txt')][pick(3)]!, file);
    return { why: `${path} replaced by a link`, path, reseal: 'none' };
  }
  let after: Buffer | undefined;
  let why = `bytes of ${path} mutated`;
  if (op >= 3 && op < 12) {
    const text = before.toString('utf8');
    const mutated = path.endsWith('.json') ? mutateJson(text, random) : mutateLines(text, random);
    if (mutated !== undefined && mutated !== text) {
      after = Buffer.from(mutated, 'utf8');
      why = `${path.endsWith('.json') ? 'structure' : 'lines'} of ${path} mutated`;
    }
  }
  after ??= mutate(before, random);
  await writeFile(file, after);
  return { why, path, reseal, content: after.toString('base64') };
}

/** Signs the file again (when it has a signature), then, for `reseal`, every record that names its old digest, up to the sums and the provenance. */
async function resealRelease(dir: string, entry: CorpusEntry, oldDigest: string | undefined, gpg: TestGpg): Promise<void> {
  if (entry.reseal === 'none') return;
  const signed = new Set((await filesOf(dir)).filter((f) => f.endsWith('.asc') && f !== 'release-signing-public-key.asc').map((f) => f.slice(0, -4)));
  const changed = new Set<string>([entry.path]);
  if (entry.reseal === 'reseal' && oldDigest !== undefined) {
    const queue: [string, string, string | undefined][] = [[entry.path, oldDigest, entry.content === undefined ? undefined : sha256(await readFile(join(dir, entry.path)))]];
    for (let round = 0; queue.length && round < 16; round++) {
      const [from, was, now] = queue.shift()!;
      if (now === undefined || was === now) continue;
      for (const rec of await filesOf(dir)) {
        if (rec === from || rec.endsWith('.asc') || !/\.(txt|json)$/.test(rec)) continue;
        const text = await readFile(join(dir, rec), 'utf8');
        if (!text.includes(was)) continue;
        const old = sha256(text);
        const updated = text.split(was).join(now);
        await writeFile(join(dir, rec), updated);
        changed.add(rec);
        queue.push([rec, old, sha256(updated)]);
      }
    }
  }
  for (const f of changed) if (signed.has(f)) await lstat(join(dir, f)).then((s) => s.isFile() && gpg.sign(join(dir, f)), () => undefined);
  // The DSSE envelopes of what changed are made again too, as the sign stage makes them (an SBOM's from the sums as they are now).
  const present = new Set(await filesOf(dir));
  for (const f of changed) {
    if (!present.has(`${f}.dsse.json`) || !(await lstat(join(dir, f)).then((s) => s.isFile(), () => false))) continue;
    const bytes = await readFile(join(dir, f));
    if (!isSbomFile(f.split('/').pop()!)) {
      await gpg.envelope(join(dir, f), bytes);
      continue;
    }
    try {
      const sums = parseSums(await readFile(join(dir, 'SHA256SUMS.txt'), 'utf8'), 'SHA256SUMS.txt');
      const format = sbomFormatOf(f.split('/').pop()!) ?? 'spdx';
      const artifact = sums.find((l) => sbomName(l.path, format) === f.split('/').pop());
      if (artifact) await gpg.envelope(join(dir, f), sbomStatementPayload(artifact, JSON.parse(bytes.toString('utf8')), format));
    } catch {
      /* no sums or no JSON: the envelope stays as it was */
    }
  }
}

/** Digests of the good release's files, to write a corpus entry independent of them (and back). */
function digestPlaceholders(digests: Map<string, string>) {
  return {
    abstract: (text: string) => [...digests].reduce((t, [path, d]) => t.split(d).join(`{{sha256:${path}}}`), text),
    concrete: (text: string) => text.replace(/\{\{sha256:([^}]+)\}\}/g, (_m, path: string) => digests.get(path) ?? '0'.repeat(64)),
  };
}

/** One mutant and what each verifier said. */
export interface ReleaseFinding {
  mutant: string;
  why: string;
  typescript: string;
  python: string;
  entry: CorpusEntry;
}

const PYTHON_DRIVER = `
import contextlib, importlib.util, io, json, re, sys, traceback
def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
signatures = load("verify_release_signatures", sys.argv[1])
provenance = load("verify_release_provenance", sys.argv[2])
with open(sys.argv[3], encoding="utf-8") as handle:
    jobs = json.load(handle)
out = []
for job in jobs:
    codes, passed, crash = set(), True, None
    for module, args in ((signatures, job["signatures"]), (provenance, job["provenance"])):
        buffer = io.StringIO()
        try:
            with contextlib.redirect_stdout(buffer):
                status = module.run(args)
        except BaseException:
            crash = traceback.format_exc().strip().splitlines()[-1]
            status = 1
        passed = passed and status == 0
        for line in buffer.getvalue().splitlines():
            match = re.match(r"^FAILED ([A-Z_0-9]+):", line)
            if match:
                codes.add(match.group(1))
    out.append({"codes": sorted(codes), "passed": passed, "crash": crash})
print(json.dumps(out))
`;

/** Runs the committed corpus and `count` mutants (from `seed`) through both verifiers; returns the disagreements and crashes. */
export async function fuzzRelease(options: { seed: number; count: number; python: string; save?: string }): Promise<{ findings: ReleaseFinding[]; verdicts: Map<string, number> }> {
  const random = prng(options.seed);
  const work = await mkdtemp(join(tmpdir(), 'helix-release-fuzz-'));
  const gpg = new TestGpg();
  try {
    await gpg.init();
    const good = join(work, 'good');
    await buildRelease(good, gpg);
    const files = await filesOf(good);
    const digests = new Map(await Promise.all(files.map(async (f) => [f, sha256(await readFile(join(good, f)))] as [string, string])));
    const placeholders = digestPlaceholders(digests);

    const entries: CorpusEntry[] = [];
    const corpus = (await readdir(CORPUS).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).sort();
    for (const name of corpus) entries.push(JSON.parse(await readFile(join(CORPUS, name), 'utf8')) as CorpusEntry);
    const mutants: { dir: string; entry: CorpusEntry }[] = [];
    for (let i = 0; i < entries.length + options.count; i++) {
      const dir = join(work, `m${String(i).padStart(5, '0')}`);
      await cp(good, dir, { recursive: true, verbatimSymlinks: true });
      let entry: CorpusEntry;
      if (i < entries.length) {
        entry = entries[i]!;
        if (entry.content === undefined) await rm(join(dir, entry.path), { force: true });
        else await writeFile(join(dir, entry.path), Buffer.from(placeholders.concrete(Buffer.from(entry.content, 'base64').toString('latin1')), 'latin1'));
      } else {
        entry = await mutateRelease(dir, files, random);
      }
      await resealRelease(dir, entry, digests.get(entry.path), gpg);
      mutants.push({ dir, entry });
    }

    const trust = await loadTrustStore(TRUST_STORE);
    const typescript: { codes: string[]; crash?: string }[] = [];
    for (const m of mutants) {
      try {
        const results = await verifyRelease(m.dir, { fingerprint: gpg.fingerprint, trustStore: trust });
        typescript.push({ codes: [...new Set(results.filter((r) => r.status === 'FAILED').map((r) => r.code!))].sort() });
      } catch (err) {
        typescript.push({ codes: [], crash: (err as Error).stack ?? String(err) });
      }
    }
    const jobsFile = join(work, 'jobs.json');
    await writeFile(jobsFile, JSON.stringify(mutants.map((m) => ({
      signatures: ['--dir', m.dir, '--fingerprint', gpg.fingerprint, '--trust-store', TRUST_STORE],
      provenance: ['--dir', m.dir],
    }))));
    const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' };
    const python = JSON.parse(execFileSync(options.python, ['-c', PYTHON_DRIVER, join(REPO_ROOT, 'tools', 'verify_release_signatures.py'), join(REPO_ROOT, 'tools', 'verify_release_provenance.py'), jobsFile], { env, encoding: 'utf8', maxBuffer: 64 << 20 })) as { codes: string[]; passed: boolean; crash: string | null }[];

    const findings: ReleaseFinding[] = [];
    const verdicts = new Map<string, number>();
    mutants.forEach((m, i) => {
      const ts = typescript[i]!;
      const py = python[i]!;
      const tsText = ts.crash ? `CRASH ${ts.crash}` : ts.codes.join(',') || 'PASSED';
      const pyText = py.crash ? `CRASH ${py.crash}` : py.codes.join(',') || (py.passed ? 'PASSED' : 'FAILED with no code');
      for (const code of ts.codes.length ? ts.codes : ['PASSED']) verdicts.set(code, (verdicts.get(code) ?? 0) + 1);
      if (tsText !== pyText) findings.push({ mutant: `${m.dir.split('/').pop()} (${m.entry.reseal})`, why: m.entry.why, typescript: tsText, python: pyText, entry: m.entry });
    });
    if (options.save) {
      await mkdir(options.save, { recursive: true });
      for (const f of findings) {
        const entry = { ...f.entry, content: f.entry.content === undefined ? undefined : Buffer.from(placeholders.abstract(Buffer.from(f.entry.content, 'base64').toString('latin1')), 'latin1').toString('base64') };
        await writeFile(join(options.save, `${f.mutant.split(' ')[0]}.json`), `${JSON.stringify(entry, null, 2)}\n`);
      }
    }
    return { findings, verdicts };
  } finally {
    await gpg.dispose();
    await rm(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const arg = (flag: string, fallback: string) => {
    const i = process.argv.indexOf(flag);
    return i >= 0 ? process.argv[i + 1]! : fallback;
  };
  testPython()
    .then((python) => fuzzRelease({ seed: Number(arg('--seed', '1')), count: Number(arg('--count', '200')), python, save: process.argv.includes('--save') ? arg('--save', '.') : undefined }))
    .then(
      ({ findings, verdicts }) => {
        console.log(`verdicts: ${[...verdicts].sort().map(([c, n]) => `${c} ${n}`).join(', ')}`);
        for (const f of findings) console.log(`DISAGREE ${f.mutant}: ${f.why}\n  typescript ${f.typescript}\n  python     ${f.python}`);
        console.log(`${findings.length} findings`);
        process.exitCode = findings.length ? 1 : 0;
      },
      (err: unknown) => {
        console.error(err);
        process.exitCode = 2;
      },
    );
}
