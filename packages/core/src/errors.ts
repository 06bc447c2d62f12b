/**
 * One error hierarchy for all of HYPR. Every error has a stable SCREAMING_SNAKE code, a message
 * saying what is wrong, an optional hint saying what to do, and the cause. Subclasses add *where*:
 * SourceError a file:line:column, ConfigKeyError a file and key path.
 */
export type ErrorCode = string;

export class HyprError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** Normalises anything thrown into a HyprError (kept as is when it already is one). */
  static from(e: unknown, code: ErrorCode = 'INTERNAL'): HyprError {
    if (e instanceof HyprError) return e;
    if (e instanceof Error) return new HyprError(code, e.message, undefined, { cause: e });
    return new HyprError(code, String(e));
  }

  /** The message as printed for users: the message, then the hint on its own line. */
  format(): string {
    return this.hint ? `${this.message}\nhint: ${this.hint}` : this.message;
  }
}

/** An error located in a source file (Dockerfile, .dockerignore, kestrel job …). Lines and columns are 1-based. */
export class SourceError extends HyprError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly file: string | undefined,
    readonly line: number,
    readonly column = 1,
    hint?: string,
    options?: ErrorOptions,
  ) {
    super(code, message, hint, options);
  }

  get location(): string {
    return `${this.file ?? '<input>'}:${this.line}:${this.column}`;
  }

  override format(): string {
    return `${this.location}: ${super.format()}`;
  }
}

/** An error located at a key path of a configuration file (compose.yaml, daemon.json …). */
export class ConfigKeyError extends HyprError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly file: string | undefined,
    readonly path: string,
    readonly line?: number,
    hint?: string,
    options?: ErrorOptions,
  ) {
    super(code, message, hint, options);
  }

  override format(): string {
    const where = `${this.file ?? '<input>'}${this.line ? `:${this.line}` : ''} ${this.path}`;
    return `${where}: ${super.format()}`;
  }
}

/** Levenshtein distance, for did-you-mean suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The closest candidate to `word` (case-insensitive) within a small distance, if any. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(w.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}
