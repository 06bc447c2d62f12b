/**
 * Interleaved logs of a stack's containers, each line prefixed as docker compose does
 * (`web-1  | hello`, padded to the longest prefix, coloured on a terminal).
 */
import { type HyprClient, type StackContainer, Stream } from '@hypr/api';

const COLOURS = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

export interface FollowLogsOptions {
  follow: boolean;
  timestamps: boolean;
  tail: number;
  prefix: boolean;
  colour: boolean;
  signal: AbortSignal;
  /** Called when one container's log ends (with follow: the container stopped). */
  onEnd?: (c: StackContainer) => void;
}

export function logPrefix(c: Pick<StackContainer, 'service' | 'number'>): string {
  return `${c.service}-${c.number}`;
}

/** Streams the logs of `list` to stdout/stderr until each ends (or the signal aborts). */
export async function followStackLogs(client: HyprClient, list: StackContainer[], o: FollowLogsOptions): Promise<void> {
  const width = Math.max(0, ...list.map((c) => logPrefix(c).length));
  await Promise.all(
    list.map(async (c, i) => {
      const name = logPrefix(c).padEnd(width);
      const head = o.prefix
        ? o.colour
          ? `\x1b[${COLOURS[i % COLOURS.length]}m${name}  |\x1b[0m `
          : `${name}  | `
        : '';
      let partial = { stdout: '', stderr: '' };
      const write = (stream: 'stdout' | 'stderr', text: string, time: string) => {
        const lines = (partial[stream] + text).split('\n');
        partial = { ...partial, [stream]: lines.pop() ?? '' };
        const out = stream === 'stderr' ? process.stderr : process.stdout;
        for (const l of lines) out.write(`${head}${o.timestamps ? `${time} ` : ''}${l}\n`);
      };
      try {
        for await (const m of client.containers.logs(
          { id: c.id, follow: o.follow, tail: o.tail, stdout: true, stderr: true },
          { signal: o.signal },
        ))
          write(m.stream === Stream.STDERR ? 'stderr' : 'stdout', Buffer.from(m.data).toString(), m.time);
      } catch (e) {
        if (!o.signal.aborted) throw e;
      }
      for (const s of ['stdout', 'stderr'] as const) if (partial[s]) write(s, '\n', '');
      o.onEnd?.(c);
    }),
  );
}
