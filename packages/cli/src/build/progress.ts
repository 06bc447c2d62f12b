import type { BuildResponse } from '@hypr/api';
/**
 * `hypr build` progress as BuildKit prints it. `plain`: one line per event, `#N` numbering the
 * vertices (the CLI's own: definition, context, base images; then the daemon's steps):
 *
 *   #3 [builder 2/4] RUN make
 *   #3 0.512 building…
 *   #3 DONE 2.1s
 *   #4 [builder 3/4] COPY . /app
 *   #4 CACHED
 *
 * `tty`: the same vertices as a live view redrawn in place, one line per vertex with its timer, the
 * running step's last output lines under it, collapsing when done. `quiet`: nothing.
 */
import { humanSize } from '@hypr/api/units';

export type ProgressMode = 'plain' | 'tty' | 'quiet';

type Event = BuildResponse['event'];

interface Vertex {
  id: number;
  name: string;
  started: number;
  status: 'running' | 'cached' | 'done' | 'error';
  durationMs?: number;
  /** Extra lines shown under the name (`transferring context: 1.2kB done`). */
  detail?: string;
  tail: string[];
}

const TTY_TAIL_LINES = 6;

export class BuildProgress {
  private next = 1;
  private readonly ids = new Map<number, number>();
  private readonly vertices = new Map<number, Vertex>();
  private readonly partial = new Map<number, string>();
  private readonly pulls = new Map<string, number>();
  private contextId = 0;
  private drawn = 0;
  private timer?: NodeJS.Timeout;
  private readonly warnings: string[] = [];

  constructor(
    private readonly mode: ProgressMode,
    private readonly out: NodeJS.WritableStream = process.stderr,
  ) {
    if (mode === 'tty') this.timer = setInterval(() => this.redraw(), 150);
  }

  /** Stops the live view's timer and draws the last frame. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.mode === 'tty') this.redraw();
    for (const w of this.warnings) this.write(w);
  }

  /** `#1 [internal] load build definition from Dockerfile` … `DONE`. */
  definition(name: string, bytes: number): void {
    const v = this.open(`[internal] load build definition from ${name}`);
    this.finish(v, 'done', `transferring dockerfile: ${humanSize(bytes)} done`);
  }

  contextStarted(): void {
    this.contextId = this.open('[internal] load build context').id;
  }

  contextProgress(bytes: number, done: boolean): void {
    const v = this.vertices.get(this.contextId);
    if (!v) return;
    const detail = `transferring context: ${humanSize(bytes)}${done ? ' done' : ''}`;
    if (done) this.finish(v, 'done', detail);
    else if (this.mode === 'tty') v.detail = detail;
  }

  event(e: Event): void {
    switch (e.case) {
      case 'context':
        this.contextProgress(Number(e.value.receivedBytes), e.value.done);
        return;
      case 'pull': {
        const { ref, status } = e.value;
        if (status === 'resolving') this.pulls.set(ref, this.open(`[internal] load metadata for ${ref}`).id);
        else if (status === 'pulled') {
          const v = this.vertices.get(this.pulls.get(ref) ?? -1);
          if (v) this.finish(v, 'done');
        }
        return;
      }
      case 'warning': {
        const w = e.value;
        this.warnings.push(`WARN: ${w.rule}: ${w.message}${w.line ? ` (line ${w.line})` : ''}`);
        return;
      }
      case 'step':
        this.step(e.value);
        return;
      case 'log':
        this.log(e.value.id, e.value.data);
        return;
    }
  }

  /** `#N exporting to image` with the id and names, after the result. */
  exported(imageId: string, tags: readonly string[]): void {
    const v = this.open('exporting to image');
    const lines = [`writing image ${imageId} done`, ...tags.map((t) => `naming to ${t} done`)];
    this.finish(v, 'done', lines.join('\n'));
  }

  private step(s: { id: number; name: string; status: string; durationMs: bigint }): void {
    let local = this.ids.get(s.id);
    let v = local === undefined ? undefined : this.vertices.get(local);
    if (!v) {
      v = this.open(s.name, s.status !== 'cached');
      local = v.id;
      this.ids.set(s.id, local);
    }
    const ms = Number(s.durationMs);
    if (s.status === 'cached') this.finish(v, 'cached');
    else if (s.status === 'done' || s.status === 'error') {
      this.flush(v);
      this.finish(v, s.status, undefined, ms);
    }
  }

  private log(daemonId: number, data: Uint8Array): void {
    const id = this.ids.get(daemonId);
    const v = id === undefined ? undefined : this.vertices.get(id);
    if (!v) return;
    const text = (this.partial.get(v.id) ?? '') + Buffer.from(data).toString('utf8');
    const lines = text.split('\n');
    this.partial.set(v.id, lines.pop() ?? '');
    for (const l of lines) this.line(v, l.replace(/\r$/, ''));
  }

  private flush(v: Vertex): void {
    const rest = this.partial.get(v.id);
    if (rest) this.line(v, rest);
    this.partial.delete(v.id);
  }

  private line(v: Vertex, text: string): void {
    if (this.mode === 'plain') this.write(`#${v.id} ${((Date.now() - v.started) / 1000).toFixed(3)} ${text}`);
    else if (this.mode === 'tty') {
      v.tail.push(text);
      if (v.tail.length > TTY_TAIL_LINES) v.tail.shift();
    }
  }

  private open(name: string, announce = true): Vertex {
    const v: Vertex = { id: this.next++, name, started: Date.now(), status: 'running', tail: [] };
    this.vertices.set(v.id, v);
    if (this.mode === 'plain' && announce) this.write(`#${v.id} ${name}`);
    return v;
  }

  private finish(v: Vertex, status: Vertex['status'], detail?: string, durationMs?: number): void {
    v.status = status;
    v.durationMs = durationMs ?? Date.now() - v.started;
    if (detail) v.detail = detail;
    if (this.mode !== 'plain') return;
    if (status === 'cached') {
      this.write(`#${v.id} ${v.name}`);
      this.write(`#${v.id} CACHED`);
      return;
    }
    for (const l of detail?.split('\n') ?? []) this.write(`#${v.id} ${l}`);
    this.write(`#${v.id} ${status === 'error' ? 'ERROR' : 'DONE'} ${(v.durationMs / 1000).toFixed(1)}s`);
  }

  private write(line: string): void {
    if (this.mode === 'quiet') return;
    if (this.mode === 'tty') this.erase();
    this.out.write(`${line}\n`);
  }

  private erase(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  /** The live view: a line per vertex, `=>` done, `=>` with timer while running, output under it. */
  private redraw(): void {
    if (this.mode !== 'tty') return;
    this.erase();
    const lines: string[] = [];
    const total = [...this.vertices.values()];
    const elapsed = total.length ? (Date.now() - total[0].started) / 1000 : 0;
    lines.push(
      `[+] Building ${elapsed.toFixed(1)}s (${total.filter((v) => v.status !== 'running').length}/${total.length})`,
    );
    const width = (process.stderr as NodeJS.WriteStream).columns || 100;
    for (const v of total) {
      const secs = ((v.status === 'running' ? Date.now() - v.started : (v.durationMs ?? 0)) / 1000).toFixed(1);
      const mark = v.status === 'cached' ? 'CACHED' : v.status === 'error' ? 'ERROR' : `${secs}s`;
      const head = ` => ${v.name}`;
      lines.push(
        `${head.slice(0, Math.max(10, width - mark.length - 2)).padEnd(Math.max(10, width - mark.length - 2))} ${mark}`,
      );
      if (v.detail && v.status === 'running') lines.push(` => => ${v.detail}`.slice(0, width - 1));
      if (v.status === 'running') for (const t of v.tail) lines.push(` => => # ${t}`.slice(0, width - 1));
    }
    this.out.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}
