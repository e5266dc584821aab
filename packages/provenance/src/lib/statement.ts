/**
 * Types of the in-toto Statement v1 with an SLSA Provenance v1 predicate, as
 * this project writes it (https://in-toto.io/Statement/v1,
 * https://slsa.dev/provenance/v1). The meaning of our parameters is defined in
 * docs/provenance-build-type.md.
 */
import { HELIX_URI_BASE } from '@helix-release/core';

/** `_type` of the statement. */
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
  subject: { name: string; digest: { sha256: string }; annotations: { 'helix.kind': string; 'helix.sbom'?: string } }[];
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
