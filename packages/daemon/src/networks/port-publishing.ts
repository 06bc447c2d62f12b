/**
 * `-p` and `-P`: the mappings a container asks for, a check that fixed host ports are free at
 * `create`, and `ports.json` in the container's directory so a restarted daemon binds the same ones.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { HyprError, type PortMapping, type PublishedPort, mappingsForExposed, parsePortSpec } from '@hypr/core';
import type { ContainerRef } from './attachments.js';

const PORTS_FILE = 'ports.json';

/** Binds and closes each fixed host port: a port in use fails `create`, before anything exists. */
export async function probePorts(mappings: readonly PortMapping[]): Promise<void> {
  for (const m of mappings) {
    if (m.protocol !== 'tcp' || m.hostPort === 0 || m.hostPortEnd !== undefined) continue;
    await new Promise<void>((resolve, reject) => {
      const s = createServer();
      s.once('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EADDRINUSE')
          reject(
            new HyprError(
              'PORT_IN_USE',
              `host port ${m.hostIp}:${m.hostPort}/tcp is already in use`,
              'pick another host port, or stop what listens there (`ss -ltnp` names it)',
            ),
          );
        else resolve(); // other failures are reported by the proxy at start
      });
      s.listen({ host: m.hostIp, port: m.hostPort, exclusive: true }, () => s.close(() => resolve()));
    });
  }
}

/** `-p` specs and, with `-P`, every exposed port. */
export function mappingsOf(ref: ContainerRef): PortMapping[] {
  return [
    ...ref.ports.flatMap((p) => parsePortSpec(p)),
    ...(ref.network?.publishAll ? mappingsForExposed(ref.exposedPorts) : []),
  ];
}

export async function savePublishedPorts(
  ref: ContainerRef,
  ports: readonly PublishedPort[] | undefined,
): Promise<void> {
  if (ports) await writeFile(join(ref.dir, PORTS_FILE), JSON.stringify(ports));
  else await rm(join(ref.dir, PORTS_FILE), { force: true });
}

/** The ports the container published before the daemon restarted, as mappings to bind again. */
export async function readPublishedPorts(ref: ContainerRef): Promise<PortMapping[]> {
  const saved = await readFile(join(ref.dir, PORTS_FILE), 'utf8').catch(() => '');
  if (!saved) return [];
  return (JSON.parse(saved) as PublishedPort[]).map((p) => ({
    hostIp: p.hostIp,
    hostPort: p.hostPort,
    containerPort: p.containerPort,
    protocol: p.protocol,
  }));
}
