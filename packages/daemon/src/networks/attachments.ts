/**
 * Which networks a container joins. `network connect/disconnect` write the list to the container's
 * directory (`networks.json`); without that file the container's create options say (`--network`,
 * default: the default network).
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { containers } from '@hypr/core';

export const DEFAULT_NETWORK = 'bridge';
const NETWORKS_FILE = 'networks.json';

/** `run --network --network-alias --ip -P`, as stored in a container's create options. */
export interface ContainerNetworkOptions {
  network?: string;
  aliases?: string[];
  ip?: string;
  publishAll?: boolean;
}

/** The part of a container the manager reads (a row of `containers` and its parsed config). */
export interface ContainerRef {
  id: string;
  name: string;
  hostname: string;
  dir: string;
  ports: string[];
  exposedPorts: string[];
  network?: ContainerNetworkOptions;
}

export interface Attachment {
  /** Network name or id as given. */
  network: string;
  aliases: string[];
  ip?: string;
}

/** A container row as the network manager sees it. */
export function containerRefOf(row: typeof containers.$inferSelect): ContainerRef {
  const c = JSON.parse(row.config) as {
    hostname?: string;
    exposedPorts?: Record<string, object>;
    create?: { ports?: string[]; network?: ContainerNetworkOptions };
  };
  return {
    id: row.id,
    name: row.name,
    hostname: c.hostname ?? '',
    dir: row.dir ?? '',
    ports: c.create?.ports ?? [],
    exposedPorts: Object.keys(c.exposedPorts ?? {}),
    network: c.create?.network,
  };
}

/**
 * The networks a container joins: networks.json, else its --network. `defaultDisabled`: the
 * default network is off (daemon.json `"bridge": "none"` and no such network), so it joins none.
 */
export function readAttachments(ref: ContainerRef, defaultDisabled: boolean): Attachment[] {
  if (ref.dir) {
    try {
      return JSON.parse(readFileSync(join(ref.dir, NETWORKS_FILE), 'utf8')) as Attachment[];
    } catch {
      /* not connected by hand: its create options say */
    }
  }
  const net = ref.network?.network || DEFAULT_NETWORK;
  if (net === 'none' || (net === DEFAULT_NETWORK && defaultDisabled)) return [];
  return [{ network: net, aliases: ref.network?.aliases ?? [], ...(ref.network?.ip ? { ip: ref.network.ip } : {}) }];
}

export async function saveAttachments(ref: ContainerRef, list: readonly Attachment[]): Promise<void> {
  await mkdir(ref.dir, { recursive: true, mode: 0o700 });
  await writeFile(join(ref.dir, NETWORKS_FILE), JSON.stringify(list.filter((a) => a.network !== 'none')));
}
