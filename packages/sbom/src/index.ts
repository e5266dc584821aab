/** @helix-release/sbom: stage `sbom`. */
export * from './descriptor';
export * from './lib/errors';
export * from './lib/normalise';
export * from './lib/cross-check';
export * from './lib/sbom';
export * from './lib/cyclonedx';
