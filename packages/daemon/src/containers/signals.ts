// Signal names as docker accepts them (`TERM`, `sigterm`, `15`), normalised to `SIGTERM`.
import { HyprError } from '@hypr/core';

const SIGNALS = new Set([
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGILL',
  'SIGTRAP',
  'SIGABRT',
  'SIGBUS',
  'SIGFPE',
  'SIGKILL',
  'SIGUSR1',
  'SIGSEGV',
  'SIGUSR2',
  'SIGPIPE',
  'SIGALRM',
  'SIGTERM',
  'SIGCHLD',
  'SIGCONT',
  'SIGSTOP',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGURG',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGVTALRM',
  'SIGPROF',
  'SIGWINCH',
  'SIGIO',
  'SIGPWR',
  'SIGSYS',
]);
const SIGNAL_NUMBERS: Record<number, string> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  3: 'SIGQUIT',
  9: 'SIGKILL',
  10: 'SIGUSR1',
  12: 'SIGUSR2',
  15: 'SIGTERM',
};

/** Normalises `TERM`, `sigterm`, `15` to `SIGTERM`. */
export function normalizeSignal(text: string): string {
  const t = text.trim().toUpperCase();
  if (/^\d+$/.test(t)) {
    const s = SIGNAL_NUMBERS[Number(t)];
    if (s) return s;
  } else {
    const s = t.startsWith('SIG') ? t : `SIG${t}`;
    if (SIGNALS.has(s)) return s;
  }
  throw new HyprError('INVALID_SIGNAL', `invalid signal: ${text}`, 'use a name such as SIGTERM or KILL, or a number');
}

/** normalizeSignal, or `fallback` for an absent or unknown name (an image's STOPSIGNAL). */
export function normalizeSignalOr(text: string | undefined, fallback: string): string {
  if (!text) return fallback;
  try {
    return normalizeSignal(text);
  } catch {
    return fallback;
  }
}
