import { SourceError } from '../errors.js';

/**
 * A RUN that exited non-zero, reported as BuildKit does: the step, the last lines of its output,
 * the Dockerfile around the line, and `ERROR: process "…" did not complete successfully: exit code: N`.
 */
export class BuildStepError extends SourceError {
  constructor(
    /** `[stage-0 2/5] RUN make` */
    readonly step: string,
    /** The process as BuildKit names it: argv joined by spaces. */
    readonly processText: string,
    readonly exitCode: number,
    readonly outputTail: string,
    file: string | undefined,
    line: number,
    /** The Dockerfile text, for the excerpt. */
    readonly source?: string,
  ) {
    super(
      'BUILD_STEP_FAILED',
      `${step}: process "${processText}" did not complete successfully: exit code: ${exitCode}`,
      file,
      line,
      1,
    );
  }

  /** The last `n` lines of the step's output. */
  tailLines(n = 10): string[] {
    const lines = this.outputTail.replace(/\r/g, '').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-n);
  }

  override format(): string {
    const out = [` > ${this.step}:`];
    for (const l of this.tailLines()) out.push(l);
    out.push('------');
    if (this.source !== undefined) {
      const lines = this.source.split('\n');
      out.push(`${this.file ?? 'Dockerfile'}:${this.line}`, '--------------------');
      for (let i = Math.max(1, this.line - 2); i <= Math.min(lines.length, this.line + 2); i++) {
        const mark = i === this.line ? '>>>' : '   ';
        out.push(`${String(i).padStart(4)} | ${mark} ${lines[i - 1]}`);
      }
      out.push('--------------------');
    } else out.push(`${this.file ?? 'Dockerfile'}:${this.line}`);
    out.push(`ERROR: process "${this.processText}" did not complete successfully: exit code: ${this.exitCode}`);
    return out.join('\n');
  }
}
