/**
 * Minimal logging for stages. Output goes to stderr/stdout of the Nx task, so
 * it lands in Nx's terminal output cache: nothing secret may ever be logged.
 */

/** Where stages write human-readable progress. */
export interface Logger {
  /** Progress information. */
  info(message: string): void;
  /** Something the user should look at, but not a failure. */
  warn(message: string): void;
  /**
   * A loud, boxed notice for decisions a user must not miss, such as a release
   * left unsigned or signed with a development key.
   */
  notice(message: string): void;
  /** A failure. */
  error(message: string): void;
}

/** A logger writing to the process streams, each line prefixed with the stage name. */
export function consoleLogger(stage: string): Logger {
  const prefix = `[${stage}]`;
  return {
    info: (m) => process.stdout.write(`${prefix} ${m}\n`),
    warn: (m) => process.stderr.write(`${prefix} warning: ${m}\n`),
    notice: (m) => {
      const bar = '!'.repeat(78);
      process.stderr.write(`${bar}\n${m
        .split('\n')
        .map((line) => `!! ${prefix} ${line}`)
        .join('\n')}\n${bar}\n`);
    },
    error: (m) => process.stderr.write(`${prefix} error: ${m}\n`),
  };
}

/** A logger that records lines, for tests and for callers that print a report. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    notice: (m) => lines.push(`notice: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
  };
}
