/** @helix-release/sign: stage `sign`. */
export * from './descriptor';
export * from './lib/dsse';
export * from './lib/errors';
export * from './lib/key';
export * from './lib/sign';
