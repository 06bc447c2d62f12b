/**
 * The fds a runtime process is handed: the engine's stdio (0–2), and in the processes `create` and
 * `exec --detach` leave behind, fd 3, a pipe back to the command that started them.
 */
import { fstatSync, statSync } from 'node:fs';
import { Socket } from 'node:net';

/** True when fd 0 is /dev/null: the engine gives the program no input (no `-i`). */
export function stdinIsNull(): boolean {
  try {
    const fd0 = fstatSync(0);
    return fd0.isCharacterDevice() && fd0.rdev === statSync('/dev/null').rdev;
  } catch {
    return true;
  }
}

export interface ParentPipe {
  /** Sends one line ("ready", "started", "error: …") to the starting command; only the first is sent. */
  tell(line: string): void;
  /**
   * Resolves when the starting command has exited. A process left behind exits only after that:
   * the command is a Node process, which reaps its children, and the exit status must reach the
   * engine (conmon, containerd's shim), the subreaper the process is handed to.
   */
  gone: Promise<void>;
}

export function parentPipe(): ParentPipe {
  let sock: Socket | undefined;
  try {
    if (fstatSync(3).isSocket()) sock = new Socket({ fd: 3, readable: true, writable: true });
  } catch {
    sock = undefined;
  }
  if (!sock) return { tell() {}, gone: Promise.resolve() };
  const s = sock;
  s.resume();
  const gone = new Promise<void>((r) => {
    s.on('close', () => r());
    s.on('end', () => r());
    s.on('error', () => r());
  });
  let told = false;
  return {
    tell(line) {
      if (told) return;
      told = true;
      s.write(`${line}\n`);
    },
    gone,
  };
}
