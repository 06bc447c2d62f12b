// The shapes the stacks concern shares between its parts and with rpc/stacks.ts.
import type { PublishedPort } from '@hypr/core';
import type { StackSpec } from '@hypr/core/compose';
import type { ContainerView } from '../containers/index.js';

/** One line of progress: `Container p-web-1  Started`. */
export interface StackEvent {
  kind: 'Container' | 'Network' | 'Volume' | 'Image' | 'Service' | '';
  name: string;
  status: string;
  message?: string;
  service?: string;
  warning?: boolean;
  /** The container's id, when a one-off container has been created (run). */
  id?: string;
}

export type Emit = (e: StackEvent) => void;

/** What the `stacks.config` column holds. */
export interface StoredStack {
  spec: StackSpec;
  projectDir: string;
  configFiles: string[];
}

/** `up --build` (always), `up --no-build` (never), or build when the image is missing (''). */
export type BuildMode = '' | 'always' | 'never';

export interface UpOptions {
  projectDir: string;
  configFiles: string[];
  services: string[];
  build: BuildMode;
  forceRecreate: boolean;
  noRecreate: boolean;
  removeOrphans: boolean;
  noStart: boolean;
  noDeps: boolean;
  wait: boolean;
  waitTimeoutMs: number;
  pull: string;
  /** `--scale SERVICE=N`: replicas instead of the file's. */
  scale?: Record<string, number>;
}

export interface DownOptions {
  /** The spec of the files as the CLI loaded them; else the recorded one. */
  spec?: StackSpec;
  volumes: boolean;
  removeOrphans: boolean;
  timeoutSeconds?: number;
  /** `--rmi`: remove the images the services use (`all`), or those built without an `image:` name (`local`). */
  removeImages?: RemoveImagesMode;
}

export type RemoveImagesMode = 'local' | 'all';

export interface BuildOptions {
  noCache: boolean;
  pull: boolean;
  buildArgs: Record<string, string>;
}

export interface ControlOptions {
  services: string[];
  timeoutSeconds?: number;
  signal?: string;
  stopFirst?: boolean;
}

/** One container of a project, with what its labels say about it. */
export interface StackContainerView {
  view: ContainerView;
  service: string;
  number: number;
  labels: Record<string, string>;
  /** Made by `compose run`: not one of the service's replicas. */
  oneOff: boolean;
}

/** A container as `compose ps` shows it: with the ports it publishes now. */
export interface StackPsEntry extends StackContainerView {
  published: readonly PublishedPort[];
}

export type ControlAction = 'start' | 'stop' | 'restart' | 'kill' | 'rm';

export interface StackSummary {
  name: string;
  status: string;
  configFiles: string[];
  projectDir: string;
}

/** `compose run`: a one-off container of `service`, as the service is but with these overrides. */
export interface RunOptions {
  projectDir: string;
  configFiles: string[];
  service: string;
  command?: string[];
  entrypoint?: string[];
  /** KEY=VALUE, over the service's environment. */
  env: string[];
  noDeps: boolean;
  /** Remove the container when it exits. */
  rm: boolean;
  servicePorts: boolean;
  name?: string;
  user?: string;
  workdir?: string;
  tty: boolean;
  interactive: boolean;
}
