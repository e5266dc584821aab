/** @helix-release/conformance: stage `conformance`. */
export * from './descriptor';
export * from './lib/errors';
export * from './lib/results';
export * from './lib/conformance';
