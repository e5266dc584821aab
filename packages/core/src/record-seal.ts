/**
 * Stage records are sealed: each carries an HMAC-SHA256, under a key that
 * lives only in this workspace (`.helix/record-key`, made on first use, mode
 * 0600; never in dist/, the Nx cache or git) — or `HELIX_RECORD_KEY` (64 hex
 * digits), which trusted runs sharing a remote cache set alike — of
 * everything else it holds. A
 * record restored from a cache entry that this workspace did not write — an
 * entry copied from elsewhere, or a zip and its record replaced together — no
 * longer matches its seal, and the stage that reads it refuses it before any
 * of its bytes are run, described, summed or signed. With the sha256 each
 * record holds of its files (checked by the stages that run, describe or sum
 * them), that ties every byte the release signs to a stage run of this
 * workspace.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stableJson } from './canonical-json';
import { ReleaseError } from './errors';

/** Where the workspace's record key lives. */
export function recordKeyPath(workspaceRoot: string): string {
  return join(workspaceRoot, '.helix', 'record-key');
}

const keys = new Map<string, Buffer>();

/** The workspace's record key: HELIX_RECORD_KEY, else 32 random bytes made once (two processes racing make one). */
export async function recordKey(workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  const given = env['HELIX_RECORD_KEY'];
  if (given !== undefined && given !== '') {
    if (!/^[0-9a-fA-F]{64}$/.test(given)) throw new ReleaseError('CONFIG_INVALID', 'HELIX_RECORD_KEY must be 64 hex digits (32 bytes), e.g. from `openssl rand -hex 32`');
    return Buffer.from(given, 'hex');
  }
  const file = recordKeyPath(workspaceRoot);
  const cached = keys.get(file);
  if (cached) return cached;
  const read = async () => {
    const hex = (await readFile(file, 'utf8')).trim();
    if (!/^[0-9a-f]{64}$/.test(hex)) {
      throw new ReleaseError('MANIFEST_INVALID', 'the record key is damaged; delete it, then run `npx nx reset` and the release again (every record is made anew)', { file });
    }
    return Buffer.from(hex, 'hex');
  };
  let key: Buffer;
  try {
    key = await read();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // Written whole under a temporary name, then linked into place: a second process racing us links to EEXIST and reads ours.
    await mkdir(dirname(file), { recursive: true });
    const temp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    await writeFile(temp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    try {
      await link(temp, file);
    } catch (linkErr) {
      if ((linkErr as NodeJS.ErrnoException).code !== 'EEXIST') throw linkErr;
    } finally {
      await rm(temp, { force: true });
    }
    key = await read();
  }
  keys.set(file, key);
  return key;
}

/** The seal of a record: `hmac-sha256:<hex>` over its canonical JSON without the seal. */
export function sealOf(record: Record<string, unknown>, key: Buffer): string {
  const { seal: _omit, ...rest } = record;
  return `hmac-sha256:${createHmac('sha256', key).update(stableJson(rest)).digest('hex')}`;
}

/** True when `record` carries the seal this key gives it. */
export function sealMatches(record: Record<string, unknown>, key: Buffer): boolean {
  const seal = record['seal'];
  if (typeof seal !== 'string') return false;
  const expected = Buffer.from(sealOf(record, key));
  const actual = Buffer.from(seal);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
