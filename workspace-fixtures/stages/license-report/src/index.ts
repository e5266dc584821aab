/** @helix-fixtures/license-report: an example custom stage. */
export * from './lib/license-report';
