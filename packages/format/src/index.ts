/**
 * @helix-release/format: what a release publishes, as data. Stages write it,
 * verifiers read it; neither needs the other.
 */
export * from './errors';
export * from './bytes';
export * from './paths';
export * from './files';
export * from './uuid';
export * from './sums';
export * from './build-meta';
export * from './plugin';
export * from './statements';
export * from './codes';
export * from './dsse';
