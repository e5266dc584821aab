/**
 * The release plan: the ordered stages, made from stage descriptors. Each
 * stage package exports one {@link StageDescriptor} (its whole contract:
 * name, place, files, evidence level, Nx inputs, outputs and cache setting);
 * the nx-plugin lists the built-in ones in order, and this module turns that
 * list plus the custom stages of release.config.ts into targets, `dependsOn`
 * edges and the records each stage reads. tools/release_local.sh and the CI
 * workflow are checked against it by the parity test.
 *
 *   lock → package, plugin-zip → [custom "build" stages] → conformance →
 *   [custom "conformance" stages] → sbom → checksums + build-meta →
 *   provenance → sign
 */
import type { EvidenceLevel } from '@helix-release/format';
import type { CustomStageSlot, ResolvedConfig } from './config';
import { helixSourcePath, workspacePackageDir } from './assets';
import { canonicalJson } from './canonical-json';
import { ReleaseError } from './errors';
import { sha256Hex } from './hash';
import { IMPORT_RECORD, type RecordRef } from './records';

/** Name of the root project that owns the release-level targets. */
export const RELEASE_PROJECT = 'release';

/** Which projects get a stage's target: apps, plugins, both (`artifact`), or the root project. */
export type StageScope = 'app' | 'plugin' | 'artifact' | 'release';

/** The kinds of per-project project. */
export type ProjectKind = 'app' | 'plugin';

/** True when a stage of `scope` has a target in every project of `kind`. */
export function scopeIncludes(scope: StageScope, kind: ProjectKind): boolean {
  return scope === kind || scope === 'artifact';
}

/** An Nx input as a target lists it. */
export type NxInput = string | Record<string, unknown>;

/** A project a per-project stage runs for, as the nx-plugin found it. */
export interface PlanProject {
  /** Nx project name (`helix-studio`, `plugin-hello`). */
  name: string;
  /** Workspace-relative folder. */
  root: string;
  /** The release file it builds, relative to the release folder. */
  artifact: string;
  /** For apps: the PyInstaller spec, relative to `root`. */
  spec?: string;
}

/**
 * Inputs a descriptor names instead of spelling out; the nx-plugin expands
 * them for the workspace at hand (they differ between this repository and a
 * workspace that installs our packages):
 * - `sourceDateEpoch`: the variable, and the clock the stage will use;
 * - `gitState`: HEAD, its tag, the remote and whether the tree is dirty;
 * - `toolchainPins`: tools/toolchain (our sources only; installed, the lockfile pins it);
 * - `ciEnvironment`: the CI variables the provenance records;
 * - `pluginSigningKeyId`: the public half of HELIX_PLUGIN_SIGNING_KEY.
 */
export const HELIX_INPUTS = ['sourceDateEpoch', 'gitState', 'toolchainPins', 'ciEnvironment', 'pluginSigningKeyId'] as const;

/** An input naming one of helix-release's own files (`tools/…`, see assets.ts), expanded like {@link HELIX_INPUTS}. */
export function ownFileInput(rel: string): string {
  return `${OWN_FILE_PREFIX}${rel}`;
}

/** The prefix of {@link ownFileInput}. */
export const OWN_FILE_PREFIX = 'helix:';

/** What a descriptor's target hooks are computed from. */
export interface TargetParams {
  config: ResolvedConfig;
  /** The project, for per-project stages. */
  project?: PlanProject;
  /** Both variants of the plan, for release-level stages. */
  plans?: { build: ReleasePlan; import: ReleasePlan };
}

/**
 * The digest of the release.config.ts settings a per-project target reads,
 * passed as its `configDigest` option (Nx hashes options): adding a custom
 * stage or changing the signing settings then does not rebuild the apps.
 */
export function configDigest(slice: unknown): string {
  return sha256Hex(canonicalJson(slice ?? null));
}

/** One stage's whole contract. */
export interface StageDescriptor {
  /** Target name, e.g. `sbom`. */
  name: string;
  /** The Nx executor, `<package>:<executor>`. */
  executor: string;
  /** The npm package of the stage (its sources key the cache when they are part of the workspace). */
  package: string;
  scope: StageScope;
  /**
   * Stages it runs after. A per-project stage names stages of its own
   * project; a release stage names release stages or per-project ones (then
   * it runs after them in every project).
   */
  after: readonly string[];
  /** True when it needs the provisioned toolchain (`release:toolchain`) first. */
  toolchain?: boolean;
  /**
   * True for the stages that build the release's artifacts (package,
   * plugin-zip). A custom `build` stage runs after them, and an import plan
   * (tools/release_local.sh) replaces their records by the import record.
   */
  buildsArtifacts?: boolean;
  /**
   * For per-project stages: stages of *other* projects it runs after, in
   * every project that has them (an app's conformance needs every plugin
   * zip); their records are handed over too.
   */
  afterEvery?: readonly string[];
  /**
   * True for a per-project stage that describes the artifact its project
   * built (its SBOM, its conformance run): the release-level stage of the
   * same evidence takes over what it recorded, and does the work itself for
   * an artifact no project built here (an import plan, a custom stage).
   */
  describesArtifact?: boolean;
  /** Records of per-project stages that are not artifact builders which a stage reads too (e.g. `lock`). */
  reads?: readonly string[];
  /** The evidence its run makes stale; undefined when it changes nothing later stages described. */
  evidence?: EvidenceLevel;
  /** Whether Nx may cache it (never for signing). */
  cache: boolean;
  /** Release files it writes, relative to the release folder (globs allowed), for its Nx outputs. */
  writes(params: TargetParams): string[];
  /** Nx inputs beyond its own sources, core's and its upstream outputs; may name {@link HELIX_INPUTS} and {@link ownFileInput}s. */
  inputs(params: TargetParams): NxInput[];
  /** Executor options besides the plan's (e.g. the spec, a digest of the settings it reads). */
  options?(params: TargetParams): Record<string, unknown>;
  /**
   * True when it reads settings of release.config.ts beyond what `options`
   * passes (then the whole config is an input).
   */
  readsWholeConfig: boolean;
  /** One line for `nx show project`. */
  description(params: TargetParams): string;
  /**
   * For per-project stages: files outside the project and the stage's code
   * that its output depends on (a trust store, a key), part of its clock.
   */
  clockFiles?(params: { config: ResolvedConfig }): string[];
}

/**
 * What a per-project stage's clock follows: the project folder, the stage's
 * code (its package, core, the format) and the toolchain pins when they are
 * part of the workspace (installed, they are pinned by its lockfile), and
 * the stage's own extra files. The last commit that changed any of them is the
 * SOURCE_DATE_EPOCH of its artifact.
 */
export function artifactClockPaths(stage: Pick<StageDescriptor, 'package' | 'clockFiles'>, params: { workspaceRoot: string; config: ResolvedConfig; project: { root: string } }): string[] {
  const ours = [stage.package, '@helix-release/core', '@helix-release/format'].map((pkg) => workspacePackageDir(params.workspaceRoot, pkg));
  const paths = [params.project.root, ...ours, helixSourcePath(params.workspaceRoot, 'tools/toolchain'), ...(stage.clockFiles?.(params) ?? [])];
  return [...new Set(paths.filter((p): p is string => p !== undefined))].sort();
}

/** The projects a per-project stage of `scope` has a target in. */
export function projectsOf(scope: Exclude<StageScope, 'release'>, projects: PlanProjects): string[] {
  return scope === 'app' ? projects.apps : scope === 'plugin' ? projects.plugins : [...projects.apps, ...projects.plugins];
}

/**
 * The records a per-project stage reads, in plan order: those of the stages
 * of its own project it runs after (directly or not) that build artifacts or
 * that it names in `reads`, then those of its `afterEvery` stages in every
 * project that has them.
 */
export function projectStageRecords(stages: readonly StageDescriptor[], stage: StageDescriptor, project: { name: string; kind: ProjectKind }, projects: PlanProjects): RecordRef[] {
  const byName = new Map(stages.map((s) => [s.name, s]));
  const before = new Set<string>();
  const visit = (name: string) => {
    for (const dep of byName.get(name)?.after ?? []) {
      const d = byName.get(dep);
      if (!d || d.scope === 'release' || !scopeIncludes(d.scope, project.kind) || before.has(dep)) continue;
      before.add(dep);
      visit(dep);
    }
  };
  visit(stage.name);
  const reads = new Set(stage.reads ?? []);
  const own = stages.filter((s) => before.has(s.name) && (s.buildsArtifacts || reads.has(s.name))).map((s): RecordRef => `${project.name}/${s.name}`);
  const every = (stage.afterEvery ?? []).flatMap((name) => {
    const d = byName.get(name);
    return d && d.scope !== 'release' ? projectsOf(d.scope, projects).filter((p) => p !== project.name).map((p): RecordRef => `${p}/${name}`) : [];
  });
  return [...own, ...every];
}

/** A custom stage, placed in the plan by its slot. */
interface CustomPlanStage {
  name: string;
  slot: CustomStageSlot;
}

/** The projects a plan is made for. */
export interface PlanProjects {
  apps: string[];
  plugins: string[];
}

/** A plan for building here, or for a release of artifacts imported from elsewhere (tools/release_local.sh). */
export type PlanVariant = 'build' | 'import';

/** The ordered release plan. */
export interface ReleasePlan {
  variant: PlanVariant;
  /** Every stage target in run order, as CI and release_local must run them. */
  stageTargets: string[];
  /** The release-level targets in run order. */
  releaseTargets: string[];
  /** For each release-level target: the targets it directly depends on. */
  dependsOn: Record<string, string[]>;
  /** For each release-level target: the stage records it reads, in plan order. */
  records: Record<string, RecordRef[]>;
}

/** Targets that are the release's own besides its stages. */
export const INFRASTRUCTURE_TARGETS = ['preflight', 'toolchain', 'all', 'clean'] as const;

/** The target names custom stages may not take: every built-in stage and the infrastructure targets. */
export function reservedTargets(stages: readonly StageDescriptor[]): string[] {
  return [...INFRASTRUCTURE_TARGETS, ...stages.map((s) => s.name)];
}

/** Throws CONFIG_INVALID when a custom stage takes a reserved name. */
export function checkCustomStageNames(config: ResolvedConfig, stages: readonly StageDescriptor[]): void {
  const reserved = reservedTargets(stages);
  config.stages.forEach((stage, i) => {
    if (reserved.includes(stage.name)) {
      throw new ReleaseError('CONFIG_INVALID', `stages[${i}].name: ${JSON.stringify(stage.name)} is a built-in stage; pick another name`, { file: config.file });
    }
  });
}

/** Slot anchors: the stages a custom stage of that slot runs after. */
function anchors(slot: CustomStageSlot, stages: readonly StageDescriptor[]): string[] {
  return slot === 'build' ? stages.filter((s) => s.buildsArtifacts).map((s) => s.name) : [slot];
}

/**
 * Computes the plan from the built-in descriptors (in order), the config's
 * custom stages and the discovered projects.
 */
export function releasePlan(stages: readonly StageDescriptor[], config: ResolvedConfig, projects: PlanProjects, variant: PlanVariant = 'build'): ReleasePlan {
  checkCustomStageNames(config, stages);
  const byName = new Map(stages.map((s) => [s.name, s]));
  const custom: CustomPlanStage[] = config.stages.map((s) => ({ name: s.name, slot: s.after }));
  const scopeOf = (name: string): StageScope => byName.get(name)?.scope ?? 'release';

  // Run order: the built-in list, each slot's custom stages right after the last of its anchors.
  const order: string[] = [];
  const dependsOn: Record<string, string[]> = {};
  for (const stage of stages) {
    order.push(stage.name);
    for (const slot of ['build', 'conformance'] as const) {
      const slotAnchors = anchors(slot, stages);
      if (slotAnchors[slotAnchors.length - 1] === stage.name) order.push(...custom.filter((c) => c.slot === slot).map((c) => c.name));
    }
  }
  const edge = (from: string, to: string): string => (scopeOf(from) === 'release' && scopeOf(to) !== 'release' ? `^${to}` : to);
  for (const c of custom) dependsOn[c.name] = anchors(c.slot, stages).map((a) => edge(c.name, a));
  for (const stage of stages.filter((s) => s.scope === 'release')) {
    const after = [...stage.after];
    // A stage after a slot's anchors also runs after that slot's custom stages.
    for (const slot of ['build', 'conformance'] as const) {
      const slotAnchors = anchors(slot, stages);
      if (slotAnchors.length && slotAnchors.every((a) => after.includes(a))) after.push(...custom.filter((c) => c.slot === slot).map((c) => c.name));
    }
    if (stage.toolchain) after.push('toolchain');
    dependsOn[stage.name] = after.map((a) => edge(stage.name, a));
  }

  // An import plan replaces the builders' records by the import record, and
  // leaves what describes a built artifact to the release-level stages.
  const imported = (name: string) => variant === 'import' && (byName.get(name)?.buildsArtifacts === true || byName.get(name)?.describesArtifact === true);
  const stageTargets = order.filter((name) => !imported(name));
  const releaseTargets = order.filter((name) => scopeOf(name) === 'release');

  // The records a release stage reads: those of every stage it runs after,
  // directly or not, in run order; per-project stages only when they build
  // artifacts or the stage names them in `reads`.
  const ancestors = (name: string): Set<string> => {
    const seen = new Set<string>();
    const visit = (n: string) => {
      for (const dep of dependsOn[n] ?? byName.get(n)?.after ?? []) {
        const d = dep.replace(/^\^/, '');
        if (d === 'toolchain' || seen.has(d)) continue;
        seen.add(d);
        visit(d);
      }
    };
    visit(name);
    return seen;
  };
  const refsOf = (name: string): RecordRef[] => {
    const scope = scopeOf(name);
    if (scope === 'release') return [`${RELEASE_PROJECT}/${name}`];
    return projectsOf(scope, projects).map((p): RecordRef => `${p}/${name}`);
  };
  const records: Record<string, RecordRef[]> = {};
  for (const name of releaseTargets) {
    const before = ancestors(name);
    const reads = new Set(byName.get(name)?.reads ?? []);
    const wanted = order.filter((n) => before.has(n) && (scopeOf(n) === 'release' || byName.get(n)?.buildsArtifacts || reads.has(n)));
    const refs = wanted.filter((n) => !imported(n)).flatMap(refsOf);
    records[name] = variant === 'import' && wanted.some(imported) ? [IMPORT_RECORD, ...refs] : refs;
  }
  return { variant, stageTargets, releaseTargets, dependsOn, records };
}
