/**
 * The statements the release publishes: the provenance (an in-toto Statement
 * v1 with an SLSA Provenance v1 predicate) and the conformance results (the
 * test-result predicate), as this project writes them (https://in-toto.io/Statement/v1,
 * https://slsa.dev/provenance/v1). The meaning of our parameters is defined in
 * docs/provenance-build-type.md.
 */

/** Base of the URIs helix-release mints (a reserved domain, so they never name anyone else's page). */
export const HELIX_URI_BASE = 'https://helix-release.invalid';

/** `_type` of every statement. */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** `predicateType` of the statement. */
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** Our buildType; its parameters are documented in docs/provenance-build-type.md. */
export const BUILD_TYPE = `${HELIX_URI_BASE}/provenance/nx-release/v1`;

/** An in-toto ResourceDescriptor. */
export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
  annotations?: Record<string, unknown>;
}

/** The statement. */
export interface ProvenanceStatement {
  _type: typeof STATEMENT_TYPE;
  subject: { name: string; digest: { sha256: string }; annotations: { 'helix.kind': string; 'helix.sbom'?: string; 'helix.cyclonedx'?: string } }[];
  predicateType: typeof SLSA_PROVENANCE_V1;
  predicate: {
    buildDefinition: {
      buildType: string;
      externalParameters: {
        version: string;
        tag?: string;
        targets: string[];
        releaseConfig: ResourceDescriptor;
        source: ResourceDescriptor;
      };
      internalParameters: {
        sourceDateEpoch: number;
        /** Where the clock came from: SOURCE_DATE_EPOCH in the environment (one clock for every file) or git (per-artifact clocks); absent in older releases. */
        sourceDateEpochFrom?: 'environment' | 'git';
        platform: string;
        imported: boolean;
        dirty: boolean;
      };
      resolvedDependencies: ResourceDescriptor[];
    };
    runDetails: {
      builder: { id: string; version?: Record<string, string> };
      metadata: { invocationId?: string; startedOn?: string; finishedOn?: string };
      byproducts: ResourceDescriptor[];
    };
  };
}

/** `predicateType` of conformance-results.json. */
export const TEST_RESULT_V01 = 'https://in-toto.io/attestation/test-result/v0.1';

/**
 * conformance-results.json: an in-toto Statement v1 with the test-result
 * predicate. Its subjects are the artifacts that were tested, with their
 * sha256; its configuration names the pack and the runner by digest.
 */
export interface ConformanceResults {
  _type: typeof STATEMENT_TYPE;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: typeof TEST_RESULT_V01;
  predicate: {
    result: 'PASSED' | 'FAILED';
    configuration: { name: string; digest: { sha256: string } }[];
    passedTests: string[];
    warnedTests: string[];
    failedTests: string[];
  };
}
