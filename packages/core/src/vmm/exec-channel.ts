/**
 * Exec sessions over a VM's hypr.exec channel: up to 16 at once, each a session id in the frames
 * (guest/PROTOCOL.md, "Exec"). Frames from the guest are routed to their session here.
 */
import { HyprError } from '../errors.js';
import { type ExecFrame, ExecFrameReader, encodeExecFrame, encodeExecOpen } from '../guest/index.js';
import type { Channel } from './channels.js';
import {
  type ExecEvent,
  type ExecOptions,
  type ExecSession,
  type ExecSessionHandle,
  createExecSession,
} from './exec-session.js';

const MAX_SESSIONS = 16;

export interface GuestExec {
  /** Feed for the channel's bytes. */
  push(chunk: Buffer): void;
  /** Opens a session on the channel (once the channel is there). */
  open(channel: Channel, o: ExecOptions): ExecSession;
  /** The VM ended: every session still open ends with 255. */
  endAll(): void;
}

export function createGuestExec(): GuestExec {
  const sessions = new Map<number, ExecSessionHandle>();
  const reader = new ExecFrameReader((f) => {
    const s = sessions.get(f.session);
    const event = execEvent(f);
    if (!s || !event) return;
    s.deliver(event);
    if (s.ended) sessions.delete(f.session);
  });
  return {
    push: (chunk) => reader.push(chunk),
    open(channel, o) {
      let id = 0;
      while (sessions.has(id)) id++;
      if (id >= MAX_SESSIONS)
        throw new HyprError('EXEC_TOO_MANY', `at most ${MAX_SESSIONS} exec sessions can run at once`);
      const send = (type: Parameters<typeof encodeExecFrame>[0], payload?: Buffer | string) => {
        for (const f of encodeExecFrame(type, id, payload)) channel.write(f);
      };
      const handle = createExecSession(o, {
        write: (d) => send('I', d),
        end: () => send('C'),
        resize: (rows, cols) => send('R', `${rows}x${cols}`),
        signal: (sig) => send('S', sig.replace(/^SIG/, '')),
      });
      sessions.set(id, handle);
      send('O', encodeExecOpen({ argv: o.argv, env: o.env ?? [], workdir: o.workdir, user: o.user, tty: o.tty }));
      return handle.session;
    },
    endAll() {
      for (const s of sessions.values()) s.deliver({ kind: 'exit', exitCode: 255 });
      sessions.clear();
    },
  };
}

/** What an exec frame from the guest means for its session (undefined: a type from a newer guest). */
export function execEvent(f: Pick<ExecFrame, 'payload'> & { type: string }): ExecEvent | undefined {
  switch (f.type) {
    case 'P':
      return { kind: 'started', pid: Number(f.payload.toString()) };
    case 'o':
    case 'e':
      return { kind: 'output', stream: f.type === 'e' ? 'stderr' : 'stdout', data: Buffer.from(f.payload) };
    case 'E':
      return { kind: 'error', message: f.payload.toString() };
    case 'x':
      return { kind: 'exit', exitCode: Number(f.payload.toString()) };
    default:
      return undefined;
  }
}
