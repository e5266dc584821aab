import { ReleaseError } from '@helix-release/core';

/** Error codes of the package stage. */
export type PackageErrorCode = 'PYINSTALLER_OUTPUT' | 'PYINSTALLER_SMOKE' | 'APP_SOURCE_INVALID' | 'PACKAGE_FOREIGN_FILE' | 'PACKAGE_UNLOCKED';

/** A package-stage error. */
export class PackageError extends ReleaseError<PackageErrorCode> {}
