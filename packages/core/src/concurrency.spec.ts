import { describe, expect, it } from 'vitest';
import { mapConcurrent } from './concurrency';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('mapConcurrent', () => {
  it('keeps the order of the items and never runs more than `concurrency` at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapConcurrent([30, 5, 20, 1, 10], 2, async (ms, i) => {
      peak = Math.max(peak, ++running);
      await tick(ms);
      running--;
      return `${i}:${ms}`;
    });
    expect(out).toEqual(['0:30', '1:5', '2:20', '3:1', '4:10']);
    expect(peak).toBe(2);
  });

  it('rejects with the first failure only after the runs already started have settled, and starts no new one', async () => {
    const finished: number[] = [];
    const started: number[] = [];
    const run = mapConcurrent([0, 1, 2, 3], 2, async (i) => {
      started.push(i);
      if (i === 0) throw new Error('first fails');
      await tick(30);
      finished.push(i);
      return i;
    });
    await expect(run).rejects.toThrow('first fails');
    // Item 1 was already running when item 0 failed: it finished before the rejection.
    expect(finished).toEqual([1]);
    expect(started).toEqual([0, 1]);
  });

  it('handles no items', async () => {
    await expect(mapConcurrent([], 4, async () => 1)).resolves.toEqual([]);
  });
});
