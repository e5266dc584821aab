/**
 * File-system helpers that never leave half-written output behind: every
 * file is written to a temporary sibling and renamed into place.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { compareBytes } from '@helix-release/format';

/** Byte order of names (the format's), for custom stages that sort what they write. */
export { compareBytes };
import { ReleaseError } from './errors';

/** The temporary sibling an atomic write goes through: `.<name>.tmp-<pid>-<hex>`. */
export function tempSibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** True for a {@link tempSibling} (what a killed atomic write leaves), at any depth of a relative path. */
export function isTempFile(path: string): boolean {
  return /(^|\/)\.[^/]*\.tmp-\d+-[0-9a-f]+$/.test(path);
}

/**
 * A failed write as the error to report. Node's error for a failing write
 * (ENOSPC, EDQUOT, EIO: `no space left on device, write`) names no file, so
 * it becomes a WRITE_FAILED naming the file that was being written; other
 * errors (which name their paths, or come from the source) are left as they are.
 */
function writeFailure(path: string, err: unknown): unknown {
  const e = err as NodeJS.ErrnoException;
  if (!(err instanceof Error) || typeof e.syscall !== 'string' || e.path !== undefined) return err;
  return new ReleaseError('WRITE_FAILED', `not written (${err.message}); nothing half-written was left in its place`, { file: path, cause: err });
}

/** Writes `data` to `path` atomically (temporary sibling + rename), creating parent folders. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempSibling(path);
  try {
    await writeFile(temp, data, { mode });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw writeFailure(path, err);
  }
}

/** Streams `source` into `path` atomically (temporary sibling + rename), creating parent folders. */
export async function writeStreamAtomic(path: string, source: NodeJS.ReadableStream, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempSibling(path);
  const out = createWriteStream(temp, { mode });
  // The file is opened asynchronously: a source that fails at once can make
  // pipeline reject before the open is done, and a removal then would come
  // before the file exists. Remove it only once the stream has closed.
  const closed = new Promise<void>((done) => out.once('close', () => done()));
  try {
    await pipeline(source, out);
    await rename(temp, path);
  } catch (err) {
    await closed;
    await rm(temp, { force: true });
    throw writeFailure(path, err);
  }
}

/** True when the path exists (any kind of file). */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * `child` as a path relative to `root`, with forward slashes; throws
 * PATH_OUTSIDE when it is not inside `root`.
 */
export function relativeInside(root: string, child: string, what = 'path'): string {
  const rel = relative(resolve(root), resolve(child));
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw new ReleaseError('PATH_OUTSIDE', `${what} must be inside ${root}`, { file: child });
  }
  return rel.split(sep).join('/');
}

/** All regular files and symlinks below `dir`, as sorted relative POSIX paths. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (sub: string): Promise<void> => {
    const entries = await readdir(join(dir, sub), { withFileTypes: true });
    for (const entry of entries) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(rel);
      else out.push(rel);
    }
  };
  await walk('');
  return out.sort(compareBytes);
}
