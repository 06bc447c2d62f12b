/** Signals as runc's `kill` takes them: `TERM`, `SIGTERM`, `sigterm` or `15`. */
import { constants } from 'node:os';
import { HyprError } from '@hypr/core/errors';

const NUMBERS = constants.signals as Record<string, number>;

/** The signal's name (`SIGTERM`); an unknown signal is a HyprError naming it. */
export function parseSignal(text: string): NodeJS.Signals {
  const t = text.trim().toUpperCase();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    const name = Object.keys(NUMBERS).find((k) => NUMBERS[k] === n);
    if (name) return name as NodeJS.Signals;
  } else {
    const name = t.startsWith('SIG') ? t : `SIG${t}`;
    if (name in NUMBERS) return name as NodeJS.Signals;
  }
  throw new HyprError(
    'INVALID_SIGNAL',
    `unknown signal ${JSON.stringify(text)}`,
    'give a name (TERM, KILL) or a number',
  );
}

/** The exit code of a program killed by this signal, as the shell reports it (128+N). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (NUMBERS[signal] ?? 0);
}
