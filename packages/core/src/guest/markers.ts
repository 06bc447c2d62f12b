/**
 * Lines Kestrel writes on the control channel (virtio-serial port hypr.control). Only Kestrel
 * writes there; the program's stdout/stderr travel on their own ports, so nothing the program
 * prints can be taken for a marker.
 */
import { createLineSplitter } from '../lines.js';

export type GuestEvent =
  | { kind: 'ready'; version: string }
  | { kind: 'started'; pid: number }
  | { kind: 'exit'; code: number }
  | { kind: 'error'; message: string }
  | { kind: 'result'; file: string; ok: boolean; exitCode: number };

const MARKER = /^\[HYPR-(READY|STARTED|EXIT|ERROR|RESULT)\] ?(.*)$/;

/** Parses one control line; anything that is not a well-formed marker gives undefined. */
export function parseGuestEvent(line: string): GuestEvent | undefined {
  const m = MARKER.exec(line.replace(/\r$/, ''));
  if (!m) return undefined;
  const [, kind, rest] = m;
  switch (kind) {
    case 'READY':
      return { kind: 'ready', version: rest.replace(/^kestrel /, '') };
    case 'STARTED': {
      if (!/^\d+$/.test(rest)) return undefined;
      return { kind: 'started', pid: Number(rest) };
    }
    case 'EXIT': {
      if (!/^\d{1,3}$/.test(rest) || Number(rest) > 255) return undefined;
      return { kind: 'exit', code: Number(rest) };
    }
    case 'ERROR':
      return { kind: 'error', message: rest };
    case 'RESULT': {
      const r = /^([\w.-]+) (ok|failed) (\d{1,3})$/.exec(rest);
      if (!r || Number(r[3]) > 255) return undefined;
      return { kind: 'result', file: r[1], ok: r[2] === 'ok', exitCode: Number(r[3]) };
    }
  }
  return undefined;
}

/** Splits a byte stream into lines and yields parsed events; keeps a partial last line. */
export class GuestEventReader {
  readonly push: (chunk: Buffer | string) => void;
  constructor(onEvent: (e: GuestEvent) => void) {
    // A line longer than any marker is garbage; drop it rather than grow without bound.
    this.push = createLineSplitter((line) => {
      const e = parseGuestEvent(line);
      if (e) onEvent(e);
    }, 4096);
  }
}

/** Host → guest commands on the control channel. */
export function stopCommand(signal: string, graceMs: number): string {
  return `STOP ${signal} ${Math.max(0, Math.round(graceMs))}\n`;
}

export function signalCommand(signal: string): string {
  return `SIGNAL ${signal}\n`;
}
