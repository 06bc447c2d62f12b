import type { BuildProgressEvent } from './executor.js';

/**
 * BuildKit's `--progress=plain` text for buildImage's progress events:
 *
 *   #3 [stage-0 2/4] RUN make
 *   #3 0.512 building…
 *   #3 DONE 2.1s
 *   #4 [stage-0 3/4] COPY . /app
 *   #4 CACHED
 *
 * Output lines carry the seconds since their step started. `write` receives whole lines.
 */
export function createPlainProgressPrinter(write: (line: string) => void): (event: BuildProgressEvent) => void {
  const started = new Map<number, number>();
  const partial = new Map<number, string>();
  const flush = (id: number) => {
    const rest = partial.get(id);
    if (rest) write(`#${id} ${elapsed(id)} ${rest}`);
    partial.delete(id);
  };
  const elapsed = (id: number) => ((Date.now() - (started.get(id) ?? Date.now())) / 1000).toFixed(3);
  return (e) => {
    switch (e.type) {
      case 'warning':
        write(`WARN: ${e.warning.rule}: ${e.warning.message} (line ${e.warning.line})`);
        return;
      case 'pull':
        if (e.status === 'resolving') write(`#0 [internal] load metadata for ${e.ref}`);
        return;
      case 'log': {
        const text = (partial.get(e.id) ?? '') + e.data.toString('utf8');
        const lines = text.split('\n');
        partial.set(e.id, lines.pop()!);
        for (const l of lines) write(`#${e.id} ${elapsed(e.id)} ${l.replace(/\r$/, '')}`);
        return;
      }
      case 'step':
        switch (e.status) {
          case 'running':
            started.set(e.id, Date.now());
            write(`#${e.id} ${e.name}`);
            return;
          case 'cached':
            write(`#${e.id} ${e.name}`);
            write(`#${e.id} CACHED`);
            return;
          case 'done':
            flush(e.id);
            if (!started.has(e.id)) write(`#${e.id} ${e.name}`);
            write(`#${e.id} DONE ${((e.durationMs ?? 0) / 1000).toFixed(1)}s`);
            return;
          case 'error':
            flush(e.id);
            write(`#${e.id} ERROR ${((e.durationMs ?? 0) / 1000).toFixed(1)}s`);
            return;
        }
    }
  };
}
