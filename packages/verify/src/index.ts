/** @helix-release/verify: offline verification of releases and plugins. */
export * from './lib/trust-store';
export * from './lib/plugin';
