/** @helix-release/checksums: stage `checksums` and the SHA256SUMS.txt format. */
export * from './descriptor';
export * from './lib/errors';

export * from './lib/checksums';
