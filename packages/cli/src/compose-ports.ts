// Published ports as docker compose prints them: `0.0.0.0:8000->80/tcp` (ps) and `0.0.0.0:8000` (port).
import type { StackPublisher } from '@hypr/api';

function hostAddress(p: StackPublisher): string {
  const host = p.url.includes(':') ? `[${p.url}]` : p.url || '0.0.0.0';
  return `${host}:${p.publishedPort}`;
}

/** The PORTS column of `compose ps`. */
export function portsColumn(publishers: readonly StackPublisher[]): string {
  return [...publishers]
    .sort((a, b) => a.targetPort - b.targetPort || a.protocol.localeCompare(b.protocol))
    .map((p) => `${hostAddress(p)}->${p.targetPort}/${p.protocol}`)
    .join(', ');
}

/** `compose port SERVICE PORT`: the host address a container port is published on, if it is. */
export function publishedAddress(
  publishers: readonly StackPublisher[],
  targetPort: number,
  protocol: string,
): string | undefined {
  const p = publishers.find((x) => x.targetPort === targetPort && x.protocol === protocol);
  return p && hostAddress(p);
}
