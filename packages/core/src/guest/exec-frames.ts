/**
 * Frames of the hypr.exec channel (see guest/PROTOCOL.md, "Exec"): type (1 byte), session (1 byte),
 * payload length (2 bytes, big-endian), payload.
 */
export const EXEC_FRAME_MAX = 65535;

export type ExecFrameType = 'O' | 'I' | 'C' | 'R' | 'S' | 'P' | 'o' | 'e' | 'E' | 'x';

export type ExecFrame = Frame<ExecFrameType>;

/** A frame in this format, whatever its channel: Kestrel's exec channel, or a shim's socket. */
export interface Frame<T extends string = string> {
  type: T;
  session: number;
  payload: Buffer;
}

/** One frame (several when the payload is over 65535 bytes: an open record must fit in one). */
export function encodeFrame(type: string, session: number, payload: Buffer | string = Buffer.alloc(0)): Buffer[] {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const frames: Buffer[] = [];
  for (let off = 0; off === 0 || off < data.length; off += EXEC_FRAME_MAX) {
    const chunk = data.subarray(off, off + EXEC_FRAME_MAX);
    const head = Buffer.from([type.charCodeAt(0), session, chunk.length >> 8, chunk.length & 0xff]);
    frames.push(Buffer.concat([head, chunk]));
  }
  return frames;
}

export function encodeExecFrame(
  type: ExecFrameType,
  session: number,
  payload: Buffer | string = Buffer.alloc(0),
): Buffer[] {
  return encodeFrame(type, session, payload);
}

/** Incremental parser: push bytes, get whole frames. */
export class FrameReader<T extends string = string> {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (f: Frame<T>) => void) {}
  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 4) {
      const len = (this.buf[2] << 8) | this.buf[3];
      if (this.buf.length < 4 + len) break;
      const frame = {
        type: String.fromCharCode(this.buf[0]) as T,
        session: this.buf[1],
        payload: this.buf.subarray(4, 4 + len),
      };
      this.buf = this.buf.subarray(4 + len);
      this.onFrame(frame);
    }
  }
}

/** The exec channel's frames. */
export class ExecFrameReader extends FrameReader<ExecFrameType> {}
