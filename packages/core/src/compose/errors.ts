import { ConfigKeyError, type ErrorCode, HyprError } from '../errors.js';

/** One problem found while loading a compose project: where (file, line, key path) and what. */
export interface ComposeProblem {
  /** A code more precise than COMPOSE_INVALID, when the problem has one (an unreadable file …). */
  code?: ErrorCode;
  /** Key path as compose prints it: `services.web.ports[1]`; empty for the whole file. */
  path: string;
  message: string;
  file?: string;
  line?: number;
  hint?: string;
}

/** Thrown by loadCompose when the files do not make a valid project. Lists every problem found. */
export class ComposeValidationError extends HyprError {
  readonly problems: readonly ComposeProblem[];

  constructor(problems: ComposeProblem[], options?: ErrorOptions) {
    const first = problems[0];
    const head = problems.length === 1 ? describeProblem(first) : `${problems.length} problems in the compose project`;
    super(
      (problems.length === 1 && first.code) || 'COMPOSE_INVALID',
      head,
      problems.length === 1 ? first.hint : undefined,
      options,
    );
    this.problems = problems;
  }

  /** Each problem as a ConfigKeyError, for callers that print or map errors one by one. */
  toKeyErrors(): ConfigKeyError[] {
    return this.problems.map(
      (p) => new ConfigKeyError(p.code ?? 'COMPOSE_INVALID', p.message, p.file, p.path, p.line, p.hint),
    );
  }

  override format(): string {
    return this.toKeyErrors()
      .map((e) => (e.path === '' ? formatFileProblem(e) : e.format()))
      .join('\n');
  }
}

/** A problem of a whole file: `file:line: message`, without repeating a file the message names. */
function formatFileProblem(e: ConfigKeyError): string {
  const where = `${e.file ?? '<input>'}${e.line ? `:${e.line}` : ''}`;
  const head = e.file && e.message.includes(e.file) && !e.line ? e.message : `${where}: ${e.message}`;
  return e.hint ? `${head}\nhint: ${e.hint}` : head;
}

function describeProblem(p: ComposeProblem): string {
  return p.path ? `${p.path}: ${p.message}` : p.message;
}

/** Collects problems during a phase; `throwIfAny` ends the phase. */
export class ProblemList {
  readonly items: ComposeProblem[] = [];

  add(problem: ComposeProblem): void {
    this.items.push(problem);
  }

  get size(): number {
    return this.items.length;
  }

  throwIfAny(): void {
    if (this.items.length > 0) throw new ComposeValidationError(this.items);
  }
}

/** Joins key-path segments as compose does: `services.web.ports[1]`. */
export function joinPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out ? `.${s}` : s;
  }
  return out;
}
