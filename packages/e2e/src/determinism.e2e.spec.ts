/**
 * Every byte reproducible: the same commit, built from scratch in another
 * folder under another time zone, umask and locale, gives a byte-identical
 * release — zips, SBOMs, SHA256SUMS.txt, BUILD_META.txt, the provenance
 * statement and the detached signatures.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { listFiles } from '@helix-release/core';
import { checkoutCommit, git, nx, removeTemp, tempRoot } from './workspace';

const base = inject('baseWorkspace');
let root: string | undefined;

afterAll(async () => removeTemp(root));

describe('reproducibility', () => {
  it('gives byte-identical releases for one commit built in two folders under TZ=UTC umask 022 and TZ=Asia/Tokyo umask 077', async () => {
    root = await tempRoot('repro');
    const other = await checkoutCommit(base, join(root, 'a', 'much', 'deeper', 'checkout folder'));
    expect(git(other, 'rev-parse', 'HEAD')).toBe(git(base, 'rev-parse', 'HEAD'));
    const build = await nx(other, ['run', 'release:all'], { TZ: 'Asia/Tokyo', LANG: 'de_DE.UTF-8', LC_ALL: 'de_DE.UTF-8' }, 0o077);
    expect(build.code, build.output).toBe(0);

    const a = await listFiles(join(base, 'dist/release'));
    const b = await listFiles(join(other, 'dist/release'));
    expect(b).toEqual(a);
    const kinds = ['.zip', '.spdx.json', '.cdx.json', 'SHA256SUMS.txt', 'BUILD_META.txt', 'release-provenance.intoto.json', '.asc', '.dsse.json', 'release-signing-public-key.pem'];
    for (const kind of kinds) expect(a.some((f) => f.endsWith(kind)), `the release has a ${kind}`).toBe(true);
    const differing: string[] = [];
    for (const file of a) {
      const [x, y] = await Promise.all([readFile(join(base, 'dist/release', file)), readFile(join(other, 'dist/release', file))]);
      if (!x.equals(y)) differing.push(file);
    }
    expect(differing).toEqual([]);
  });
});
