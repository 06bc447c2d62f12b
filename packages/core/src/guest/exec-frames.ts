/**
 * Frames of the hypr.exec channel (see guest/PROTOCOL.md, "Exec"): type (1 byte), session (1 byte),
 * payload length (2 bytes, big-endian), payload.
 */
export const EXEC_FRAME_MAX = 65535;

export type ExecFrameType = 'O' | 'I' | 'C' | 'R' | 'S' | 'P' | 'o' | 'e' | 'E' | 'x';

export interface ExecFrame {
  type: ExecFrameType;
  session: number;
  payload: Buffer;
}

export function encodeExecFrame(
  type: ExecFrameType,
  session: number,
  payload: Buffer | string = Buffer.alloc(0),
): Buffer[] {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const frames: Buffer[] = [];
  // Larger payloads (stdin) are split; an open record must fit in one frame.
  for (let off = 0; off === 0 || off < data.length; off += EXEC_FRAME_MAX) {
    const chunk = data.subarray(off, off + EXEC_FRAME_MAX);
    const head = Buffer.from([type.charCodeAt(0), session, chunk.length >> 8, chunk.length & 0xff]);
    frames.push(Buffer.concat([head, chunk]));
  }
  return frames;
}

/** Incremental parser: push bytes, get whole frames. */
export class ExecFrameReader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (f: ExecFrame) => void) {}
  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 4) {
      const len = (this.buf[2] << 8) | this.buf[3];
      if (this.buf.length < 4 + len) break;
      const frame = {
        type: String.fromCharCode(this.buf[0]) as ExecFrameType,
        session: this.buf[1],
        payload: this.buf.subarray(4, 4 + len),
      };
      this.buf = this.buf.subarray(4 + len);
      this.onFrame(frame);
    }
  }
}
