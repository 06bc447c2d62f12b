// The shapes the compose load phases share (one document in canonical form, the normalize context),
// kept apart from the code so the phases import them without importing each other.
import type { Report } from './normalize-values.js';
import type { ComposeFileObject, ComposeNetwork, ComposeService, ComposeVolume } from './types.js';
import type { MergeTag, YamlSource } from './yaml-source.js';

/** A service of one file, before extends and merging: canonical shapes, no defaults yet. */
export type LayerService = Partial<ComposeService> & { extends?: { service: string; file?: string } };

/** One compose document in canonical form. */
export interface ComposeLayer {
  name?: string;
  services: Record<string, LayerService>;
  networks: Record<string, Partial<ComposeNetwork>>;
  volumes: Record<string, Partial<ComposeVolume>>;
  secrets: Record<string, Partial<ComposeFileObject>>;
  configs: Record<string, Partial<ComposeFileObject>>;
  /** Top-level `x-*` keys, as written. */
  extensions: Record<string, unknown>;
}

export interface NormalizeContext {
  /** Directory relative paths are resolved against. */
  baseDir: string;
  report: Report;
  /** What loads but deserves a word (legacy booleans, deprecated keys). */
  warn?: (path: (string | number)[], message: string) => void;
}

/** One parsed, normalised document of a compose file and where its keys came from. */
export interface LayerDocument {
  file: string;
  source: YamlSource;
  layer: ComposeLayer;
  tags: Map<string, MergeTag>;
}
