import { SourceError } from '@hypr/core/errors';

/** Line and column (1-based) of an offset in the template. */
export function position(src: string, pos: number): { line: number; column: number } {
  const before = src.slice(0, Math.max(0, Math.min(pos, src.length)));
  const line = before.split('\n').length;
  return { line, column: before.length - before.lastIndexOf('\n') };
}

/**
 * A --format template that does not parse (TEMPLATE_SYNTAX) or fails on the data (TEMPLATE_EXECUTION),
 * worded as Go's text/template words it, with the line and column: `template: :1:3: function "x" not defined`.
 */
export class TemplateError extends SourceError {
  constructor(detail: string, src: string, pos: number, execution = false) {
    const { line, column } = position(src, pos);
    super(
      execution ? 'TEMPLATE_EXECUTION' : 'TEMPLATE_SYNTAX',
      `template: :${line}:${column}: ${detail}`,
      'template',
      line,
      column,
      'see https://docs.docker.com/engine/cli/formatting/ for the syntax',
    );
  }

  /** The message already holds the position. */
  override format(): string {
    return this.hint ? `${this.message}\nhint: ${this.hint}` : this.message;
  }
}
