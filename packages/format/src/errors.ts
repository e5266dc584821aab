/**
 * Typed errors. Every failure a user can cause carries a stable `code`, the
 * file it is about, and a message that says what to do about it.
 */

/**
 * An error a stage reports to the user. `file` names the file the error is
 * about (relative to the workspace root when possible).
 */
export class ReleaseError<Code extends string = string> extends Error {
  /** Stable, machine-readable code such as `LOCK_UNPINNED`. */
  readonly code: Code;
  /** The file the error is about, if any. */
  readonly file: string | undefined;

  constructor(code: Code, message: string, options: { file?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // The subclass's own name (LockError, SignError, …), not a fixed one.
    this.name = new.target.name;
    this.code = code;
    this.file = options.file;
  }

  /** `CODE: file: message`, the form every stage prints. */
  format(): string {
    return `${this.code}: ${this.file ? `${this.file}: ` : ''}${this.message}`;
  }
}

/** True when `err` is a ReleaseError (across module copies, by shape). */
export function isReleaseError(err: unknown): err is ReleaseError {
  return (
    err instanceof Error &&
    typeof (err as { code?: unknown }).code === 'string' &&
    typeof (err as { format?: unknown }).format === 'function'
  );
}

/** Message of any thrown value, for logs. */
export function describeError(err: unknown): string {
  if (isReleaseError(err)) return err.format();
  if (err instanceof Error) return err.message;
  return String(err);
}
