/**
 * What a stack's containers need before they are created, and what `down` removes after them: the
 * images (pulled or built as pull_policy and --build say), the project's networks and named volumes.
 */
import { isAbsolute, join } from 'node:path';
import { HyprError, type Logger } from '@hypr/core';
import { buildImage } from '@hypr/core/builder';
import type { StackNetwork, StackService, StackSpec } from '@hypr/core/compose';
import type { StackImageOps, StackNetworkOps, StackVolumeOps } from './deps.js';
import { LABEL_PROJECT, LABEL_SERVICE } from './labels.js';
import type { BuildMode, BuildOptions, Emit, RemoveImagesMode } from './types.js';

export interface ProvisionerDeps {
  images: StackImageOps;
  /** Absent: hyprd has no networking and services get no network. */
  networks?: StackNetworkOps;
  volumes?: StackVolumeOps;
  logger: Logger;
}

const NO_BUILD_OPTIONS: BuildOptions = { noCache: false, pull: false, buildArgs: {} };

export class StackProvisioner {
  constructor(private readonly deps: ProvisionerDeps) {}

  // ---- images ----

  /** Builds or pulls what the selected services need, as --build/--no-build, --pull and pull_policy say. */
  async ensureImages(
    spec: StackSpec,
    selected: Set<string>,
    opts: { build: BuildMode; pull: string },
    emit: Emit,
  ): Promise<void> {
    const built = new Set<string>();
    for (const name of selected) {
      const svc = spec.services[name];
      const present = this.hasImage(svc.image);
      const policy = opts.pull || svc.pullPolicy || 'missing';
      if (svc.build) {
        if (built.has(svc.build.tag)) continue;
        if (!(opts.build === 'always' || policy === 'build' || !present)) continue;
        if (opts.build === 'never' && !present)
          throw new HyprError(
            'COMPOSE_IMAGE_NOT_BUILT',
            `service "${name}" has neither an image nor a build allowed: image ${svc.image} is missing and --no-build was given`,
            'run hypr compose build, or drop --no-build',
          );
        if (opts.build === 'never') continue;
        await this.build(spec, name, NO_BUILD_OPTIONS, emit);
        built.add(svc.build.tag);
        continue;
      }
      if (policy === 'never') {
        if (!present)
          throw new HyprError(
            'IMAGE_NOT_FOUND',
            `service "${name}": image ${svc.image} is not present and pull_policy is never`,
            `hypr pull ${svc.image}`,
          );
        continue;
      }
      if (present && policy !== 'always') continue;
      await this.pull(name, svc, emit);
    }
  }

  hasImage(ref: string): boolean {
    return !!this.deps.images.store.findImage(ref);
  }

  imageDigest(ref: string): string | undefined {
    return this.deps.images.store.findImage(ref)?.digest;
  }

  async pull(name: string, svc: StackService, emit: Emit): Promise<void> {
    emit({ kind: 'Image', name: svc.image, status: 'Pulling', service: name });
    await this.deps.images.pull(svc.image, svc.platform ? { platform: svc.platform } : {});
    emit({ kind: 'Image', name: svc.image, status: 'Pulled', service: name });
  }

  /** Builds the service's image with @hypr/core's builder, its steps and output as events. */
  async build(spec: StackSpec, name: string, opts: BuildOptions, emit: Emit): Promise<void> {
    const b = spec.services[name].build;
    if (!b) return;
    emit({ kind: 'Service', name, status: 'Building', service: name });
    const dockerfilePath = b.dockerfile
      ? isAbsolute(b.dockerfile)
        ? b.dockerfile
        : join(b.context, b.dockerfile)
      : '';
    await buildImage({
      contextDir: b.context,
      ...(b.dockerfileInline !== undefined ? { dockerfile: b.dockerfileInline } : {}),
      ...(dockerfilePath ? { dockerfilePath } : {}),
      tags: [b.tag],
      buildArgs: { ...b.args, ...opts.buildArgs },
      ...(b.target ? { target: b.target } : {}),
      noCache: opts.noCache || b.noCache,
      pull: opts.pull,
      labels: { ...b.labels, [LABEL_PROJECT]: spec.name, [LABEL_SERVICE]: name },
      store: this.deps.images.store,
      registry: this.deps.images.access(),
      logger: this.deps.logger,
      onProgress: (ev) => {
        if (ev.type === 'step' && (ev.status === 'running' || ev.status === 'cached'))
          emit({
            kind: '',
            name,
            status: '',
            service: name,
            message: `${ev.status === 'cached' ? 'CACHED ' : ''}${ev.name}`,
          });
        else if (ev.type === 'log')
          for (const line of ev.data.toString().split('\n'))
            if (line) emit({ kind: '', name, status: '', service: name, message: line });
      },
    });
    emit({ kind: 'Service', name, status: 'Built', service: name });
  }

  // ---- networks ----

  /**
   * Creates the project's networks (`<project>_default` and declared ones) that do not exist yet.
   * Returns false when hyprd runs without networking (not root): services then get no network.
   */
  async ensureNetworks(spec: StackSpec, selected: Set<string>, emit: Emit): Promise<boolean> {
    const net = this.deps.networks;
    if (!net) return false;
    const used = new Set<string>();
    for (const n of selected) for (const a of spec.services[n].networks) used.add(a.network);
    for (const key of used) {
      const n = spec.networks[key] ?? defaultNetwork(spec, key);
      if (net.list().some((x) => x.name === n.name)) continue;
      if (n.external)
        throw new HyprError(
          'COMPOSE_NETWORK_NOT_FOUND',
          `network ${n.name} declared as external, but could not be found`,
          `hypr network create ${n.name}`,
        );
      emit({ kind: 'Network', name: n.name, status: 'Creating' });
      try {
        await net.createNetwork({
          name: n.name,
          ...(n.subnets[0] ? { subnet: n.subnets[0] } : {}),
          internal: n.internal,
          labels: { [LABEL_PROJECT]: spec.name, 'com.docker.compose.network': key },
        });
      } catch (e) {
        if ((e as HyprError).code !== 'NETWORK_UNAVAILABLE') throw e;
        const message = `${(e as Error).message}: services run without a network`;
        emit({ kind: '', name: spec.name, status: '', warning: true, message });
        return false;
      }
      emit({ kind: 'Network', name: n.name, status: 'Created' });
    }
    return true;
  }

  /** Joins a created (not yet started) container to the service's networks after its first. */
  async connectOtherNetworks(containerId: string, svc: StackService): Promise<void> {
    const net = this.deps.networks;
    if (!net) return;
    for (const a of svc.networks.slice(1)) {
      const ref = net.ref(containerId);
      if (!ref) throw new HyprError('CONTAINER_NOT_FOUND', `no such container: ${containerId}`);
      await net.connect(ref, false, a.name, { aliases: a.aliases, ...(a.ipv4Address ? { ip: a.ipv4Address } : {}) });
    }
  }

  // ---- volumes ----

  /** Creates the project's named volumes (`<project>_<key>` unless named) that do not exist yet. */
  ensureVolumes(spec: StackSpec, emit: Emit): void {
    const vols = this.deps.volumes;
    if (!vols) return;
    for (const [key, v] of Object.entries(spec.volumes)) {
      if (v.external) {
        if (!vols.exists(v.name))
          throw new HyprError(
            'COMPOSE_VOLUME_NOT_FOUND',
            `external volume "${v.name}" not found`,
            `hypr volume create ${v.name}`,
          );
        continue;
      }
      const labels = { ...v.labels, [LABEL_PROJECT]: spec.name, 'com.docker.compose.volume': key };
      if (vols.ensure(v.name, labels).created) emit({ kind: 'Volume', name: v.name, status: 'Created' });
    }
  }

  // ---- down ----

  /** down: the project's networks (not external ones), and with -v its named volumes. */
  async removeResources(spec: StackSpec, volumes: boolean, emit: Emit): Promise<void> {
    await this.removeNetworks(spec, emit);
    if (volumes) await this.removeVolumes(spec, emit);
  }

  private async removeNetworks(spec: StackSpec, emit: Emit): Promise<void> {
    const net = this.deps.networks;
    if (!net) return;
    const names = new Set<string>();
    for (const svc of Object.values(spec.services)) for (const a of svc.networks) names.add(a.name);
    for (const n of Object.values(spec.networks)) if (!n.external) names.add(n.name);
    for (const n of Object.values(spec.networks)) if (n.external) names.delete(n.name);
    for (const n of names) {
      if (!net.list().some((x) => x.name === n)) continue;
      emit({ kind: 'Network', name: n, status: 'Removing' });
      try {
        await net.removeNetwork(n);
        emit({ kind: 'Network', name: n, status: 'Removed' });
      } catch (e) {
        emit({ kind: 'Network', name: n, status: 'Error', message: (e as Error).message, warning: true });
      }
    }
  }

  /** `down --rmi`: the services' images (`all`), or only those built and named `<project>-<service>` (`local`). */
  removeImages(spec: StackSpec, mode: RemoveImagesMode, emit: Emit): void {
    const refs = new Set<string>();
    for (const svc of Object.values(spec.services))
      if (mode === 'all' || (svc.build && svc.image === `${spec.name}-${svc.name}`)) refs.add(svc.image);
    for (const ref of refs) {
      if (!this.hasImage(ref)) continue;
      emit({ kind: 'Image', name: ref, status: 'Removing' });
      try {
        this.deps.images.store.removeImage(ref);
        emit({ kind: 'Image', name: ref, status: 'Removed' });
      } catch (e) {
        emit({ kind: 'Image', name: ref, status: 'Error', message: (e as Error).message, warning: true });
      }
    }
  }

  private async removeVolumes(spec: StackSpec, emit: Emit): Promise<void> {
    const vols = this.deps.volumes;
    if (!vols) return;
    for (const v of Object.values(spec.volumes)) {
      if (v.external || !vols.exists(v.name)) continue;
      emit({ kind: 'Volume', name: v.name, status: 'Removing' });
      try {
        await vols.remove(v.name);
        emit({ kind: 'Volume', name: v.name, status: 'Removed' });
      } catch (e) {
        emit({ kind: 'Volume', name: v.name, status: 'Error', message: (e as Error).message, warning: true });
      }
    }
  }
}

/** A network a service uses that the files do not declare: `<project>_<key>`. */
function defaultNetwork(
  spec: StackSpec,
  key: string,
): Pick<StackNetwork, 'name' | 'external' | 'internal' | 'subnets'> {
  return { name: `${spec.name}_${key}`, external: false, internal: false, subnets: [] };
}
