/** @helix-release/verify: offline verification of releases and plugins (the format only; no stage). */
export * from './lib/trust-store';
export * from './lib/plugin';
export * from './lib/armor';
export * from './lib/release';
