/**
 * Candidate changes to packages/core/src/hash.ts, timed by the bench next to
 * the real sha256File / sha256Files on the same files in the same run (part 4,
 * information only: they never feed a goal). Nothing here is used by the
 * release itself.
 *
 * - `sha256FileChunk`: the current algorithm with another chunk size.
 * - `sha256FileOverlapped`: two buffers, so the next read (libuv thread pool)
 *   runs while the main thread hashes the current chunk.
 * - `sha256FilesInWorkers`: each concurrent file hashed in a worker thread,
 *   because `hash.update` runs on the JS thread: with the current code,
 *   "concurrently" overlaps only the reads, the hashing stays on one core.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** hash.ts's loop with a different chunk size. */
export async function sha256FileChunk(path: string, chunk: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(chunk);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, chunk, null);
      if (bytesRead === 0) break;
      hash.update(bytesRead === chunk ? buffer : buffer.subarray(0, bytesRead));
    }
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

/** Double-buffered: read chunk n+1 while hashing chunk n. Memory: two chunks. */
export async function sha256FileOverlapped(path: string, chunk = 1024 * 1024): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    const buffers = [Buffer.allocUnsafe(chunk), Buffer.allocUnsafe(chunk)] as const;
    let current = 0;
    let pending = handle.read(buffers[0], 0, chunk, null);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      const filled = buffers[current]!;
      current ^= 1;
      pending = handle.read(buffers[current]!, 0, chunk, null);
      hash.update(bytesRead === chunk ? filled : filled.subarray(0, bytesRead));
    }
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

/**
 * The worker: plain CommonJS evaluated from a string (no TypeScript loader
 * needed in the thread). Hashes the paths it is sent, double-buffered.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { open } = require('node:fs/promises');
const CHUNK = 1024 * 1024;
async function hashFile(path) {
  const handle = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    const buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
    let current = 0;
    let pending = handle.read(buffers[0], 0, CHUNK, null);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      const filled = buffers[current];
      current ^= 1;
      pending = handle.read(buffers[current], 0, CHUNK, null);
      hash.update(bytesRead === CHUNK ? filled : filled.subarray(0, bytesRead));
    }
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}
parentPort.on('message', (path) => {
  hashFile(path).then(
    (digest) => parentPort.postMessage({ digest }),
    (err) => parentPort.postMessage({ error: String(err && err.message || err) }),
  );
});
`;

/** Like sha256Files, but each of the `concurrency` lanes is a worker thread. */
export async function sha256FilesInWorkers(paths: readonly string[], concurrency = availableParallelism()): Promise<string[]> {
  const results = new Array<string>(paths.length);
  let next = 0;
  const lanes = Math.max(1, Math.min(concurrency, paths.length));
  const lane = async (): Promise<void> => {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    try {
      while (next < paths.length) {
        const index = next++;
        results[index] = await new Promise<string>((resolve, reject) => {
          const onError = (err: Error) => reject(err);
          worker.once('error', onError);
          worker.once('message', (msg: { digest?: string; error?: string }) => {
            worker.off('error', onError);
            if (msg.digest) resolve(msg.digest);
            else reject(new Error(`${paths[index]}: ${msg.error}`));
          });
          worker.postMessage(paths[index]);
        });
      }
    } finally {
      await worker.terminate();
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return results;
}
