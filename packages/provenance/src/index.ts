/** @helix-release/provenance: stage `provenance` and the statement's types. */
export * from './lib/statement';
export * from './lib/provenance';
