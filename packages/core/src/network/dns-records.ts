import { isIPv4 } from 'node:net';
import { HyprError } from '../errors.js';
import {
  DNS_CLASS_IN,
  DNS_TYPE,
  type DnsMessage,
  type DnsRecord,
  aRecordData,
  encodeDnsMessage,
  encodeDnsName,
  reverseName,
} from './dns-wire.js';

const NAME_RE = /^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$/;

function normalise(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * The names a network's resolver answers for itself: name → IPv4 addresses (several round-robin),
 * and the PTR records they imply. Anything else is for the upstream resolvers.
 */
export class DnsRecords {
  private readonly names = new Map<string, string[]>();
  private rotation = 0;

  constructor(private readonly ttlSeconds: number) {}

  /** Adds `address` to the A records of `name` (case-insensitive). */
  register(name: string, address: string): void {
    const n = normalise(name);
    if (!NAME_RE.test(n)) throw new HyprError('DNS_NAME_INVALID', `${JSON.stringify(name)} is not a valid DNS name`);
    if (!isIPv4(address)) throw new HyprError('DNS_ADDRESS_INVALID', `${address} is not an IPv4 address`);
    const list = this.names.get(n) ?? [];
    if (!list.includes(address)) list.push(address);
    this.names.set(n, list);
  }

  /** Removes `name` (only its `address` record, when given). */
  unregister(name: string, address?: string): void {
    const n = normalise(name);
    if (address === undefined) {
      this.names.delete(n);
      return;
    }
    this.keep(
      n,
      (this.names.get(n) ?? []).filter((a) => a !== address),
    );
  }

  /** Removes every name pointing at `address` (a VM that left the network). */
  unregisterAddress(address: string): void {
    for (const [n, list] of [...this.names])
      this.keep(
        n,
        list.filter((a) => a !== address),
      );
  }

  /** A copy of the records: name → addresses. */
  snapshot(): Map<string, string[]> {
    return new Map([...this.names].map(([n, a]) => [n, [...a]]));
  }

  /** The reply to a query about a registered name or address, or undefined when it is to be forwarded. */
  answer(q: DnsMessage): Buffer | undefined {
    const question = q.questions[0];
    const name = normalise(question.name);
    const base = { id: q.id, qr: true, rd: q.rd, ra: true, aa: true, questions: q.questions };
    const record = (type: number, data: Buffer): DnsRecord => ({
      name: question.name,
      type,
      class: DNS_CLASS_IN,
      ttl: this.ttlSeconds,
      data,
    });
    if (question.type === DNS_TYPE.PTR && name.endsWith('.in-addr.arpa')) {
      for (const [n, addrs] of this.names) {
        if (addrs.some((a) => reverseName(a) === name))
          return encodeDnsMessage({ ...base, answers: [record(DNS_TYPE.PTR, encodeDnsName(n))] });
      }
      return undefined;
    }
    const addrs = this.names.get(name);
    if (!addrs) return undefined;
    // The name exists, with no record of that type.
    if (question.type !== DNS_TYPE.A && question.type !== DNS_TYPE.ANY) return encodeDnsMessage(base);
    const start = this.rotation++ % addrs.length;
    const ordered = [...addrs.slice(start), ...addrs.slice(0, start)];
    return encodeDnsMessage({ ...base, answers: ordered.map((a) => record(DNS_TYPE.A, aRecordData(a))) });
  }

  private keep(name: string, addresses: string[]): void {
    if (addresses.length) this.names.set(name, addresses);
    else this.names.delete(name);
  }
}
