/** @helix-release/sign: stage `sign`. */
export * from './lib/errors';
export * from './lib/key';
export * from './lib/sign';
