/**
 * A small client for QEMU's machine protocol (QMP) on a Unix socket: JSON objects, one per line.
 * The server greets, the client leaves negotiation mode with `qmp_capabilities`, then each command
 * gets one `return` or `error`, matched here by `id`; asynchronous events in between are skipped.
 */
import { type Socket, connect } from 'node:net';
import { HyprError } from '../errors.js';
import { createLineSplitter } from '../lines.js';

interface Pending {
  resolve(value: unknown): void;
  reject(e: Error): void;
}

export interface QmpClient {
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T>;
  close(): void;
}

/** Connects to the socket; QEMU creates it while it starts, so a missing one is retried for a while. */
async function connectSocket(path: string, waitMs = 10_000): Promise<Socket> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect(path);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ECONNREFUSED') || Date.now() > deadline)
        throw new HyprError(
          'VM_HYPERVISOR_FAILED',
          `cannot reach the hypervisor's control socket ${path}: ${(e as Error).message}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** `waitMs`: how long a missing socket is waited for (default 10 s; 0 fails at once). */
export async function connectQmp(path: string, opts: { timeoutMs?: number; waitMs?: number } = {}): Promise<QmpClient> {
  const socket = await connectSocket(path, opts.waitMs);
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let greeted!: () => void;
  const greeting = new Promise<void>((r) => {
    greeted = r;
  });
  const failAll = (why: string) => {
    for (const p of pending.values()) p.reject(new HyprError('VM_HYPERVISOR_FAILED', why));
    pending.clear();
  };
  socket.on('error', (e) => failAll(`the hypervisor's control socket failed: ${e.message}`));
  socket.on('close', () => failAll('the hypervisor closed its control socket (the VM has ended)'));
  socket.on(
    'data',
    createLineSplitter((line) => {
      let msg: { QMP?: unknown; id?: number; return?: unknown; error?: { class?: string; desc?: string } };
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.QMP) return greeted();
      const p = msg.id !== undefined ? pending.get(msg.id) : undefined;
      if (!p) return; // an event, or a reply nobody waits for any more
      pending.delete(msg.id as number);
      if (msg.error) p.reject(new HyprError('VM_HYPERVISOR_FAILED', `QMP: ${msg.error.desc ?? msg.error.class}`));
      else p.resolve(msg.return);
    }),
  );
  const execute = <T>(command: string, args?: Record<string, unknown>): Promise<T> => {
    if (socket.destroyed)
      return Promise.reject(new HyprError('VM_HYPERVISOR_FAILED', 'the hypervisor control socket is closed'));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      socket.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`);
    });
  };
  const timeoutMs = opts.timeoutMs ?? 5_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      greeting.then(() => execute('qmp_capabilities')),
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new HyprError('VM_HYPERVISOR_FAILED', `the hypervisor did not answer on ${path} within ${timeoutMs} ms`),
            ),
          timeoutMs,
        );
      }),
    ]);
  } catch (e) {
    socket.destroy();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return { execute, close: () => socket.destroy() };
}
