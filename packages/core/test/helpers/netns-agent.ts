/**
 * Runs HYPR's userspace network servers inside a test's network namespace, as hyprd would on the
 * host: `ip netns exec NS tsx netns-agent.ts '<json>'`. It starts a DNS server on the gateway and
 * port proxies to VMs, prints one JSON line ({ dnsPort, ports }) when ready, and closes everything
 * on SIGTERM. (A Node process cannot enter a namespace itself, hence a separate process.)
 */
import { startDnsServer } from '../../src/network/dns-server.js';
import { type PortProxy, startPortProxy } from '../../src/network/port-proxy.js';
import { parsePortSpec } from '../../src/network/port-spec.js';

export interface AgentConfig {
  dns?: { address: string; port?: number; records: { name: string; address: string }[] };
  publish?: { spec: string; target: string }[];
}

const config = JSON.parse(process.argv[2] ?? '{}') as AgentConfig;
const dns = config.dns
  ? await startDnsServer({ address: config.dns.address, port: config.dns.port ?? 53, upstreams: [] })
  : undefined;
for (const r of config.dns?.records ?? []) dns?.register(r.name, r.address);
const proxies: PortProxy[] = [];
for (const p of config.publish ?? [])
  proxies.push(await startPortProxy({ mappings: parsePortSpec(p.spec), target: p.target, udpIdleMs: 5000 }));
process.stdout.write(`${JSON.stringify({ dnsPort: dns?.port, ports: proxies.flatMap((p) => p.ports) })}\n`);
process.on('SIGTERM', async () => {
  await Promise.all([dns?.close(), ...proxies.map((p) => p.close())]);
  process.exit(0);
});
