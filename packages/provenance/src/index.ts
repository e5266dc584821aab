/** @helix-release/provenance: stage `provenance` and the statement's types. */
export * from './descriptor';
export * from './lib/provenance';
