/**
 * The host ends of a guest's byte channels (virtio-serial ports on QEMU, vsock elsewhere): one
 * Unix socket each, on which the hypervisor connects once. Kestrel's protocol runs on top
 * (guest/PROTOCOL.md): control lines, the program's stdout/stderr, exec frames, its stdin.
 */
import { type Server, type Socket, createServer } from 'node:net';
import { join } from 'node:path';
import type { VmChannel } from './spec.js';

export interface Channel {
  server: Server;
  socket?: Socket;
  closed: Promise<void>;
  /** Writes now when the hypervisor is connected, else as soon as it connects (nothing is dropped). */
  write(data: Buffer | string): void;
  /** Ends the host side (the guest reads end-of-file) once everything queued is written. */
  end(): void;
}

export function listenChannel(path: string, onData: (b: Buffer) => void): Promise<Channel> {
  return new Promise((resolve, reject) => {
    let markClosed: () => void = () => {};
    const closed = new Promise<void>((r) => {
      markClosed = r;
    });
    const pending: (Buffer | string)[] = [];
    let ending = false;
    const ch: Channel = {
      server: createServer(),
      closed,
      write(data) {
        if (ch.socket && !ch.socket.destroyed) ch.socket.write(data);
        else if (!ch.socket) pending.push(data);
      },
      end() {
        if (ch.socket) ch.socket.end();
        else ending = true;
      },
    };
    ch.server.maxConnections = 1;
    ch.server.on('connection', (s) => {
      ch.socket = s;
      s.on('data', onData);
      s.on('error', () => {});
      s.on('close', () => markClosed());
      for (const d of pending.splice(0)) s.write(d);
      if (ending) s.end();
      ch.server.close();
    });
    ch.server.once('error', reject);
    ch.server.listen(path, () => resolve(ch));
  });
}

export interface GuestChannelHandlers {
  onControl(b: Buffer): void;
  onStdout(b: Buffer): void;
  onStderr(b: Buffer): void;
  /** Present: the hypr.exec channel is attached. */
  onExec?: (b: Buffer) => void;
  /** The hypr.stdin channel is attached (the guest only reads it). */
  stdin?: boolean;
}

/** Every channel of one VM, and how the hypervisor reaches them. */
export interface GuestChannelSet {
  control: Channel;
  stdout: Channel;
  stderr: Channel;
  exec?: Channel;
  stdin?: Channel;
  /** For VmSpec.channels, in the order the guest expects them. */
  specs: VmChannel[];
  /** Resolves once the hypervisor has closed the output channels (control, stdout, stderr). */
  outputClosed(): Promise<void>;
  /** Closes every socket at once. */
  destroy(): void;
}

/** The channels a guest expects, in its order: each a socket under dir on which the hypervisor connects. */
export function guestChannelSpecs(dir: string, o: { exec?: boolean; stdin?: boolean }): VmChannel[] {
  const spec = (name: string, vsockPort: number): VmChannel => ({
    name: `hypr.${name}`,
    socketPath: join(dir, `${name}.sock`),
    vsockPort,
  });
  return [
    spec('control', 1024),
    spec('stdout', 1025),
    spec('stderr', 1026),
    ...(o.exec ? [spec('exec', 1027)] : []),
    ...(o.stdin ? [spec('stdin', 1028)] : []),
  ];
}

/** Listens on every channel of a VM under dir (its work directory). */
export async function openGuestChannels(dir: string, h: GuestChannelHandlers): Promise<GuestChannelSet> {
  const opened: Channel[] = [];
  const listen = async (name: string, onData: (b: Buffer) => void) => {
    const ch = await listenChannel(join(dir, `${name}.sock`), onData);
    opened.push(ch);
    return ch;
  };
  try {
    const control = await listen('control', h.onControl);
    const exec = h.onExec ? await listen('exec', h.onExec) : undefined;
    const stdin = h.stdin ? await listen('stdin', () => {}) : undefined;
    const stdout = await listen('stdout', h.onStdout);
    const stderr = await listen('stderr', h.onStderr);
    return {
      control,
      stdout,
      stderr,
      exec,
      stdin,
      specs: guestChannelSpecs(dir, { exec: !!exec, stdin: !!stdin }),
      outputClosed: async () => {
        await Promise.all([control.closed, stdout.closed, stderr.closed]);
      },
      destroy: () => destroyChannels(opened),
    };
  } catch (e) {
    destroyChannels(opened);
    throw e;
  }
}

function destroyChannels(channels: Channel[]): void {
  for (const c of channels) {
    c.server.close();
    c.socket?.destroy();
  }
}
