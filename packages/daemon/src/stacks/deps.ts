/**
 * The parts of hyprd a stack is built on, as the StackOrchestrator receives them at construction:
 * only the methods stacks call, so each part can be given by the daemon (Orchestrator, ImageManager,
 * NetworkManager, VolumeManager) or by a test.
 */
import type { ImageStore, NetworkRecord, PublishedPort } from '@hypr/core';
import type { ContainerView, CreateContainerOptions } from '../containers/index.js';
import type { ImageManager } from '../images/index.js';
import type { ContainerRef } from '../networks/index.js';

/** Container lifecycle (the container Orchestrator). */
export interface StackContainerOps {
  list(opts: { all?: boolean }): ContainerView[];
  inspect(id: string): ContainerView;
  create(opts: CreateContainerOptions): ContainerView | Promise<ContainerView>;
  start(id: string): Promise<unknown>;
  stop(id: string, opts?: { timeoutSeconds?: number }): Promise<unknown>;
  kill(id: string, signal?: string): Promise<unknown>;
  remove(id: string, opts?: { force?: boolean; volumes?: boolean }): Promise<unknown>;
  wait(id: string, condition?: 'not-running'): Promise<{ exitCode: number }>;
}

/** Images: the store, pulls, and the registry access a build needs (the ImageManager). */
export interface StackImageOps {
  readonly store: ImageStore;
  pull(ref: string, opts?: { platform?: string }): Promise<unknown>;
  access(): ReturnType<ImageManager['access']>;
}

/** Networks (the NetworkManager); absent when hyprd has none. */
export interface StackNetworkOps {
  list(): Pick<NetworkRecord, 'name'>[];
  createNetwork(o: {
    name: string;
    subnet?: string;
    internal?: boolean;
    labels?: Record<string, string>;
  }): Promise<unknown>;
  removeNetwork(name: string): Promise<unknown>;
  connect(ref: ContainerRef, running: boolean, network: string, o: { aliases?: string[]; ip?: string }): Promise<void>;
  ref(id: string): ContainerRef | undefined;
  /** The ports a running container publishes now. */
  portsOf(id: string): readonly PublishedPort[];
}

/** Named volumes (the VolumeManager); absent when hyprd has none. */
export interface StackVolumeOps {
  ensure(name: string, labels?: Record<string, string>): { created: boolean };
  exists(name: string): boolean;
  remove(name: string, opts?: { force?: boolean }): Promise<void>;
}
