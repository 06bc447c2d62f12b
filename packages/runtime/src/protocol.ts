/**
 * Between the hypr-runtime commands (start, kill, exec …) and a container's supervisor: JSON lines
 * on ROOT/ID/sock, bytes in base64. A connection carries one request; an exec keeps its
 * connection for the session's stdin, signals, output and exit.
 */
import { type Socket, connect } from 'node:net';

export type Request =
  | { op: 'start' }
  | { op: 'pause' }
  | { op: 'resume' }
  | { op: 'kill'; signal: string }
  | { op: 'exec'; argv: string[]; env: string[]; cwd: string; user: string; stdin: boolean }
  | { op: 'stdin'; data: string }
  | { op: 'close-stdin' }
  | { op: 'signal'; signal: string };

export type Reply =
  | { event: 'reply'; ok: true }
  | { event: 'reply'; ok: false; error: string; code?: string }
  | { event: 'exec-started'; pid: number }
  | { event: 'out'; stream: 'stdout' | 'stderr'; data: string }
  | { event: 'exec-exit'; exitCode: number; error?: string };

export const encodeLine = (msg: Request | Reply): string => `${JSON.stringify(msg)}\n`;

export function parseLine<T extends Request | Reply>(line: string): T | undefined {
  try {
    const v = JSON.parse(line) as unknown;
    return v && typeof v === 'object' ? (v as T) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads one message per line from a socket. */
export function onLines<T extends Request | Reply>(socket: Socket, handle: (msg: T) => void): void {
  let pending = '';
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const msg = parseLine<T>(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      if (msg) handle(msg);
    }
  });
}

/**
 * Connects to the supervisor's socket. The path is given relative to the container's directory
 * (the process changes into it first): a Unix socket path is limited to 107 bytes, and engines
 * pass long roots and 64-character ids.
 */
export function connectSupervisor(dir: string, socketName: string): Promise<Socket> {
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return new Promise((resolve, reject) => {
      const s = connect(socketName);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
  } finally {
    process.chdir(cwd);
  }
}
