/**
 * The release order, in one place. The nx-plugin turns this plan into targets
 * and `dependsOn` edges; tools/release_local.sh and the CI workflow are checked
 * against it by the parity test.
 *
 *   lock → package, plugin-zip → [custom "build" stages] → conformance →
 *   [custom "conformance" stages] → sbom → checksums + build-meta →
 *   provenance → sign
 */
import type { ResolvedConfig } from './config';

/** Per-project build stages, in order. */
export const BUILD_STAGES = ['lock', 'package', 'plugin-zip'] as const;

/** Release-level evidence stages after the custom ones, in order. */
export const EVIDENCE_STAGES = ['sbom', 'checksums', 'build-meta', 'provenance', 'sign'] as const;

/** Name of the root project that owns the release-level targets. */
export const RELEASE_PROJECT = 'release';

/** A stage record reference, `<project>/<stage>`. */
export type RecordRef = `${string}/${string}`;

/** The projects a plan is made for. */
export interface PlanProjects {
  apps: string[];
  plugins: string[];
}

/** The ordered release plan. */
export interface ReleasePlan {
  /** Every stage target in run order (build stages first), as CI and release_local must run them. */
  stageTargets: string[];
  /** The release-level targets in run order. */
  releaseTargets: string[];
  /** For each release-level target: the targets it directly depends on. */
  dependsOn: Record<string, string[]>;
  /**
   * For each release-level target: the stage records it reads (the release's
   * files produced so far). Records of the build stages are listed per project.
   */
  records: Record<string, RecordRef[]>;
}

/** Computes the plan for a config and the discovered app and plugin projects. */
export function releasePlan(config: ResolvedConfig, projects: PlanProjects): ReleasePlan {
  const customBuild = config.stages.filter((s) => s.after === 'build').map((s) => s.name);
  const customConformance = config.stages.filter((s) => s.after === 'conformance').map((s) => s.name);
  const releaseTargets = [...customBuild, 'conformance', ...customConformance, ...EVIDENCE_STAGES];
  const stageTargets = [...BUILD_STAGES, ...releaseTargets];

  const buildRecords: RecordRef[] = [
    ...projects.apps.map((p): RecordRef => `${p}/package`),
    ...projects.plugins.map((p): RecordRef => `${p}/plugin-zip`),
  ];
  const rel = (stage: string): RecordRef => `release/${stage}`;
  const records: Record<string, RecordRef[]> = {};
  const dependsOn: Record<string, string[]> = {};
  let produced: RecordRef[] = [...buildRecords];
  let previous: string[] = ['^package', '^plugin-zip'];
  for (const stage of customBuild) {
    records[stage] = [...buildRecords];
    dependsOn[stage] = ['^package', '^plugin-zip'];
  }
  produced = [...produced, ...customBuild.map(rel)];
  previous = ['^package', '^plugin-zip', ...customBuild];
  records['conformance'] = [...produced];
  dependsOn['conformance'] = previous;
  produced = [...produced, rel('conformance')];
  for (const stage of customConformance) {
    records[stage] = [...produced];
    dependsOn[stage] = ['conformance'];
  }
  produced = [...produced, ...customConformance.map(rel)];
  records['sbom'] = [...produced];
  dependsOn['sbom'] = ['conformance', ...customConformance, 'toolchain'];
  produced = [...produced, rel('sbom')];
  records['checksums'] = [...produced];
  dependsOn['checksums'] = ['sbom'];
  records['build-meta'] = [...produced];
  dependsOn['build-meta'] = ['sbom'];
  records['provenance'] = [...produced, rel('checksums'), rel('build-meta')];
  dependsOn['provenance'] = ['checksums', 'build-meta'];
  records['sign'] = [...records['provenance'], rel('provenance')];
  dependsOn['sign'] = ['provenance'];
  return { stageTargets, releaseTargets, dependsOn, records };
}
