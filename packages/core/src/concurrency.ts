/** One bounded worker pool for the whole workspace (hashing, syft runs). */

/**
 * Maps `items` through `fn`, at most `concurrency` at a time, and resolves to
 * the results in the order of `items`. After the first rejection no new item
 * starts, and the map rejects with it only once the items already started have
 * settled: a caller that cleans up on failure never races a run still writing.
 */
export async function mapConcurrent<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  if (failure) throw failure.error;
  return results;
}
