/**
 * The DNS wire format (RFC 1035), only as much as HYPR's resolver needs: decode a message's header,
 * questions and answers (compressed names included), encode queries and responses with A, PTR and
 * empty answers. Forwarded queries and replies are relayed as raw bytes and never re-encoded.
 */
import { HyprError } from '../errors.js';

export const DNS_TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, ANY: 255 } as const;
export const DNS_CLASS_IN = 1;
export const DNS_RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}

export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: Buffer;
}

export interface DnsMessage {
  id: number;
  /** Query (false) or response (true). */
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
}

/** A DNS message that does not follow the wire format (the resolver answers it with FORMERR). */
export class DnsFormatError extends HyprError {
  constructor(readonly why: string) {
    super('DNS_MESSAGE_INVALID', `malformed DNS message: ${why}`);
  }
}

function readName(buf: Buffer, start: number): [string, number] {
  const labels: string[] = [];
  let pos = start;
  let end = -1;
  for (let jumps = 0; ; ) {
    if (pos >= buf.length) throw new DnsFormatError('name runs past the end');
    const len = buf[pos];
    if (len === 0) {
      pos += 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length) throw new DnsFormatError('truncated compression pointer');
      if (++jumps > 32) throw new DnsFormatError('compression loop');
      if (end < 0) end = pos + 2;
      pos = ((len & 0x3f) << 8) | buf[pos + 1];
      continue;
    }
    if (len > 63) throw new DnsFormatError('label longer than 63');
    if (pos + 1 + len > buf.length) throw new DnsFormatError('label runs past the end');
    labels.push(buf.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return [labels.join('.'), end < 0 ? pos : end];
}

/** Decodes a message; throws DnsFormatError on malformed input. */
export function decodeDnsMessage(buf: Buffer): DnsMessage {
  if (buf.length < 12) throw new DnsFormatError('shorter than a header');
  const flags = buf.readUInt16BE(2);
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  let pos = 12;
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < qd; i++) {
    const [name, next] = readName(buf, pos);
    if (next + 4 > buf.length) throw new DnsFormatError('truncated question');
    questions.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) });
    pos = next + 4;
  }
  const answers: DnsRecord[] = [];
  for (let i = 0; i < an; i++) {
    const [name, next] = readName(buf, pos);
    if (next + 10 > buf.length) throw new DnsFormatError('truncated record');
    const len = buf.readUInt16BE(next + 8);
    if (next + 10 + len > buf.length) throw new DnsFormatError('record data runs past the end');
    answers.push({
      name,
      type: buf.readUInt16BE(next),
      class: buf.readUInt16BE(next + 2),
      ttl: buf.readUInt32BE(next + 4),
      data: buf.subarray(next + 10, next + 10 + len),
    });
    pos = next + 10 + len;
  }
  return {
    id: buf.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
    questions,
    answers,
  };
}

export function encodeDnsName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  const out: Buffer[] = [];
  for (const p of parts) {
    const b = Buffer.from(p, 'latin1');
    if (b.length > 63) throw new DnsFormatError(`label ${p} longer than 63`);
    out.push(Buffer.from([b.length]), b);
  }
  out.push(Buffer.from([0]));
  return Buffer.concat(out);
}

export interface EncodeOptions {
  id: number;
  qr?: boolean;
  opcode?: number;
  aa?: boolean;
  rd?: boolean;
  ra?: boolean;
  rcode?: number;
  questions?: DnsQuestion[];
  answers?: DnsRecord[];
}

export function encodeDnsMessage(m: EncodeOptions): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(m.id & 0xffff, 0);
  const flags =
    (m.qr ? 0x8000 : 0) |
    ((m.opcode ?? 0) << 11) |
    (m.aa ? 0x0400 : 0) |
    (m.rd ? 0x0100 : 0) |
    (m.ra ? 0x0080 : 0) |
    ((m.rcode ?? 0) & 0xf);
  header.writeUInt16BE(flags, 2);
  const questions = m.questions ?? [];
  const answers = m.answers ?? [];
  header.writeUInt16BE(questions.length, 4);
  header.writeUInt16BE(answers.length, 6);
  const parts: Buffer[] = [header];
  for (const q of questions) {
    const tail = Buffer.alloc(4);
    tail.writeUInt16BE(q.type, 0);
    tail.writeUInt16BE(q.class, 2);
    parts.push(encodeDnsName(q.name), tail);
  }
  for (const a of answers) {
    const meta = Buffer.alloc(10);
    meta.writeUInt16BE(a.type, 0);
    meta.writeUInt16BE(a.class, 2);
    meta.writeUInt32BE(a.ttl, 4);
    meta.writeUInt16BE(a.data.length, 8);
    parts.push(encodeDnsName(a.name), meta, a.data);
  }
  return Buffer.concat(parts);
}

export function encodeDnsQuery(id: number, name: string, type: number = DNS_TYPE.A): Buffer {
  return encodeDnsMessage({ id, rd: true, questions: [{ name, type, class: DNS_CLASS_IN }] });
}

export function aRecordData(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

export function formatARecord(data: Buffer): string {
  return [...data].join('.');
}

/** `10.88.0.5` → `5.0.88.10.in-addr.arpa`. */
export function reverseName(address: string): string {
  return `${address.split('.').reverse().join('.')}.in-addr.arpa`;
}
