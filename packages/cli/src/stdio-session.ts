// The client side of an attached session (run -i/-t, attach, exec): the terminal in raw mode, stdin
// and window size sent as requests, output written as it comes, the exit status returned.
// No protobuf or oclif here: the fast path of `hypr run` (fast-run.ts) uses it with JSON messages.
import { CliError } from './cli-error.js';

class Queue<T> {
  private items: T[] = [];
  private wake?: () => void;
  private ended = false;
  push(item: T) {
    if (this.ended) return;
    this.items.push(item);
    this.wake?.();
  }
  end() {
    this.ended = true;
    this.wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      while (this.items.length) yield this.items.shift() as T;
      if (this.ended) return;
      await new Promise<void>((r) => {
        this.wake = r;
      });
      this.wake = undefined;
    }
  }
}

export interface SessionInput<Req> {
  start: Req;
  stdin: (b: Uint8Array) => Req;
  resize: (rows: number, cols: number) => Req;
  closeStdin: () => Req;
}

export interface SessionOutput {
  output?: { stderr: boolean; data: Uint8Array };
  exit?: { exitCode: number; error: string };
}

/** Refuses -it where docker does: an interactive terminal needs a terminal on stdin. */
export function checkTty(interactive: boolean, tty: boolean): void {
  if (interactive && tty && !process.stdin.isTTY) throw new CliError('the input device is not a TTY', 1);
}

export function terminalSize(): { rows: number; cols: number } {
  return { rows: process.stdout.rows || 24, cols: process.stdout.columns || 80 };
}

/** Runs one attached session; resolves with the exit status. */
export async function runSession<Req, Res>(o: {
  input: SessionInput<Req>;
  interactive: boolean;
  tty: boolean;
  call: (requests: AsyncIterable<Req>) => AsyncIterable<Res>;
  read: (res: Res) => SessionOutput;
  onSignal?: (signal: NodeJS.Signals) => void;
}): Promise<number> {
  const requests = new Queue<Req>();
  requests.push(o.input.start);
  const raw = o.tty && o.interactive && process.stdin.isTTY;
  const onData = (b: Buffer) => requests.push(o.input.stdin(b));
  const onEnd = () => requests.push(o.input.closeStdin());
  const onResize = () => {
    const s = terminalSize();
    requests.push(o.input.resize(s.rows, s.cols));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  const forward = (s: NodeJS.Signals) => o.onSignal?.(s);
  if (raw) process.stdin.setRawMode(true);
  if (o.interactive) {
    process.stdin.on('data', onData);
    process.stdin.once('end', onEnd);
    process.stdin.resume();
  }
  if (o.tty) process.stdout.on('resize', onResize);
  if (!raw && o.onSignal) for (const s of signals) process.on(s, forward);
  // Kestrel writes why a program could not start on its stderr too: print the exit error only if it did not.
  let stderrTail = '';
  try {
    for await (const res of o.call(requests)) {
      const m = o.read(res);
      if (m.output) {
        const toStderr = m.output.stderr;
        (toStderr ? process.stderr : process.stdout).write(m.output.data);
        if (toStderr) stderrTail = (stderrTail + Buffer.from(m.output.data).toString('utf8')).slice(-2048);
      } else if (m.exit) {
        if (m.exit.error && !stderrTail.includes(m.exit.error)) process.stderr.write(`hypr: ${m.exit.error}\n`);
        return m.exit.exitCode;
      }
    }
    throw new CliError('the session ended before the program exited', 125);
  } finally {
    requests.end();
    if (raw) process.stdin.setRawMode(false);
    process.stdin.off('data', onData);
    process.stdin.off('end', onEnd);
    process.stdin.pause();
    process.stdout.off('resize', onResize);
    for (const s of signals) process.off(s, forward);
  }
}
