/**
 * The check no peer tool makes: the SBOM of an installer must list every
 * package of the locked set that applies to its platform, at the locked
 * version. A package missing or at another version means the SBOM does not
 * describe what we shipped (or we did not ship what we locked).
 */
import { evaluateMarker, markerEnvironment, type LockedPackage } from '@helix-release/core';
import { SbomError } from './errors';
import { pypiPackages, type SpdxDocument } from './normalise';

/** Outcome of a cross-check that passed. */
export interface CrossCheckResult {
  checked: string[];
  notApplicable: string[];
  /** pypi packages in the SBOM that the lock does not list (reported, not fatal). */
  unlocked: string[];
}

/** Throws SBOM_LOCK_MISSING / SBOM_LOCK_VERSION naming the package. */
export function crossCheckLock(
  doc: SpdxDocument,
  locked: readonly LockedPackage[],
  target: { platform: string; python: string; sbomFile: string; lockFile: string },
): CrossCheckResult {
  const env = markerEnvironment(target.platform, target.python);
  const found = pypiPackages(doc);
  const checked: string[] = [];
  const notApplicable: string[] = [];
  for (const pkg of locked) {
    if (!evaluateMarker(pkg.marker, env)) {
      notApplicable.push(`${pkg.name}==${pkg.version}`);
      continue;
    }
    const versions = found.get(pkg.name);
    if (!versions) {
      throw new SbomError(
        'SBOM_LOCK_MISSING',
        `locked package ${pkg.name}==${pkg.version} (${target.lockFile}) is not in the SBOM; the bundle lacks it or its *.dist-info (add copy_metadata for it to the spec)`,
        { file: target.sbomFile },
      );
    }
    if (!versions.has(pkg.version)) {
      throw new SbomError(
        'SBOM_LOCK_VERSION',
        `locked package ${pkg.name}==${pkg.version} appears in the SBOM as ${[...versions].join(', ')}; the bundle was not built from the locked set`,
        { file: target.sbomFile },
      );
    }
    checked.push(`${pkg.name}==${pkg.version}`);
  }
  const lockedNames = new Set(locked.map((p) => p.name));
  const unlocked = [...found.keys()].filter((n) => !lockedNames.has(n)).sort();
  return { checked, notApplicable, unlocked };
}
