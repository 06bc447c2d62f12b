import { readFileSync } from 'node:fs';
import { ConfigKeyError } from '@hypr/core';

/** The keys of docker's daemon.json that hyprd honours, plus HYPR's own defaults. */
export interface DaemonConfig {
  'insecure-registries': string[];
  'registry-mirrors': string[];
  /** Default vCPUs and memory of a container without --cpus / --memory. */
  'default-cpus': number;
  'default-memory-mib': number;
  /** Seconds between the stop signal and SIGKILL when none is given. */
  'stop-timeout': number;
}

export const DEFAULT_CONFIG: DaemonConfig = {
  'insecure-registries': [],
  'registry-mirrors': [],
  'default-cpus': 1,
  'default-memory-mib': 256,
  'stop-timeout': 10,
};

/** Reads the first of `files` that exists (`$HYPR_HOME/daemon.json`, then `/etc/hypr/daemon.json`). */
export function loadDaemonConfig(files: readonly string[]): { config: DaemonConfig; file?: string } {
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new ConfigKeyError('CONFIG_INVALID', `not valid JSON: ${(e as Error).message}`, file, '.');
    }
    const config = { ...DEFAULT_CONFIG };
    for (const [key, value] of Object.entries(doc)) {
      if (key === 'insecure-registries' || key === 'registry-mirrors') {
        if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
          throw new ConfigKeyError('CONFIG_INVALID', 'must be a list of strings', file, key);
        config[key] = value as string[];
      } else if (key === 'default-cpus' || key === 'default-memory-mib' || key === 'stop-timeout') {
        if (typeof value !== 'number' || value <= 0)
          throw new ConfigKeyError('CONFIG_INVALID', 'must be a positive number', file, key);
        config[key] = value;
      }
      // Other docker keys (log-driver, storage-driver …) do not apply and are ignored.
    }
    return { config, file };
  }
  return { config: { ...DEFAULT_CONFIG } };
}
