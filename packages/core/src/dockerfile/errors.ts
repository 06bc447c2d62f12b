import { type ErrorCode, SourceError } from '../errors.js';

/**
 * Every failure of the Dockerfile frontend: a stable code (DOCKERFILE_*), the message docker build
 * would give, the file and the 1-based line and column of the instruction at fault.
 */
export class DockerfileError extends SourceError {}

/** Thrown by word expansion; the caller turns it into a DockerfileError at the instruction's line. */
export class ExpansionError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ExpansionError';
  }
}
