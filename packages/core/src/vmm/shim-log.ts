/** The container's log as docker's json-file driver writes it: {"log","stream","time"} per line. */
import { writeSync } from 'node:fs';

function rfc3339Nano(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export interface LogWriter {
  push(chunk: Buffer): void;
  /** Writes a partial last line as it is (at the end of the container). */
  flush(): void;
}

/** Splits a stream into lines as docker's json-file driver does; a partial line waits for its end. */
export function createLogWriter(fd: number, stream: 'stdout' | 'stderr'): LogWriter {
  let pending = '';
  const write = (text: string) => writeSync(fd, `${JSON.stringify({ log: text, stream, time: rfc3339Nano() })}\n`);
  return {
    push(chunk) {
      pending += chunk.toString('utf8');
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        write(pending.slice(0, nl + 1));
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
      }
      if (pending.length > 16384) {
        write(pending);
        pending = '';
      }
    },
    flush() {
      if (pending) write(pending);
      pending = '';
    },
  };
}
