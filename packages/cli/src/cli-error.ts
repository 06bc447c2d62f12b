// CliError on its own: the fast paths of bin/run.js (fast-run.ts) raise it without loading errors.ts,
// whose Connect and @hypr/api imports they do not need.
import { type ErrorCode, HyprError } from '@hypr/core/errors';

/** A failure the CLI reports itself, with docker's exit status. */
export class CliError extends HyprError {
  constructor(
    message: string,
    readonly exitCode = 1,
    hint?: string,
    code: ErrorCode = 'CLI_FAILED',
    options?: ErrorOptions,
  ) {
    super(code, message, hint, options);
  }
}
