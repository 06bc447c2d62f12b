import { type ErrorCode, SourceError } from '../errors.js';

/**
 * Every failure of the Dockerfile frontend: a stable code (DOCKERFILE_*), the message docker build
 * would give, the file and the 1-based line and column of the instruction at fault.
 */
export class DockerfileError extends SourceError {}

/**
 * Thrown by word expansion, located in the word itself (line 1, the column of the `$` or quote at
 * fault); the parser turns it into a DockerfileError at the instruction's line.
 */
export class ExpansionError extends SourceError {
  constructor(code: ErrorCode, message: string, column = 1) {
    super(code, message, undefined, 1, column);
  }
}
