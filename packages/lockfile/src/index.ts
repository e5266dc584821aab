/** @helix-release/lockfile: stage `lock`. */
export * from './descriptor';
export * from './lib/errors';
export * from './lib/requirements';
export * from './lib/uvlock';
export * from './lib/lock';
