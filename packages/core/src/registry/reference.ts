import { HyprError } from '../errors.js';

/**
 * An image reference, normalised as docker does: `nginx` is `docker.io/library/nginx:latest`.
 * `tag` is absent only when the reference names a digest alone (`repo@sha256:…`).
 */
export interface ImageRef {
  /** Registry host, with port when given: `docker.io`, `127.0.0.1:5000`, `ghcr.io`. */
  registry: string;
  /** Repository path inside the registry: `library/nginx`, `team/app`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>` when pinned. */
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
/** The host that serves Docker Hub's Distribution API. */
export const DOCKER_HUB_API = 'registry-1.docker.io';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/;
const HOST =
  /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]{1,5})?$/;

function invalid(input: string, why: string): HyprError {
  return new HyprError(
    'IMAGE_REF_INVALID',
    `invalid image reference "${input}": ${why}`,
    'write [REGISTRY[:PORT]/]REPOSITORY[:TAG][@sha256:DIGEST], for example 127.0.0.1:5000/busybox:latest',
  );
}

/** True when `s` is a well-formed `sha256:<hex>` (or sha512) digest. */
export function isDigest(s: string): boolean {
  return DIGEST.test(s);
}

/** Parses a docker-style reference. Throws HyprError IMAGE_REF_INVALID with a hint on bad input. */
export function parseImageRef(input: string, opts: { defaultTag?: string | false } = {}): ImageRef {
  const s = input.trim();
  if (s === '') throw invalid(input, 'it is empty');
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(input, `"${digest}" is not a sha256 digest`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(input, `"${tag}" is not a valid tag`);
  }
  if (rest === '') throw invalid(input, 'the repository is missing');
  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[')) {
      if (!HOST.test(first)) throw invalid(input, `"${first}" is not a registry host`);
      registry = first;
      repository = rest.slice(slash + 1);
    }
  }
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_API) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  for (const c of repository.split('/')) {
    if (!COMPONENT.test(c)) {
      throw invalid(
        input,
        c === '' ? 'it has an empty path component' : `"${c}" is not a valid repository component (lowercase only)`,
      );
    }
  }
  if (repository.length > 255) throw invalid(input, 'the repository name is longer than 255 characters');
  const defaultTag = opts.defaultTag === undefined ? 'latest' : opts.defaultTag;
  if (tag === undefined && digest === undefined && defaultTag) tag = defaultTag;
  return digest === undefined
    ? { registry, repository, tag }
    : tag
      ? { registry, repository, tag, digest }
      : { registry, repository, digest };
}

/** The canonical text: `docker.io/library/nginx:latest`, `host:5000/app@sha256:…`. */
export function formatImageRef(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The short text docker shows: `nginx:latest` for Docker Hub's library, the canonical text otherwise. */
export function familiarImageRef(ref: ImageRef): string {
  let name = `${ref.registry}/${ref.repository}`;
  if (ref.registry === DOCKER_HUB) name = ref.repository.replace(/^library\//, '');
  return `${name}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** `registry/repository` without tag or digest: the key under which tags are grouped. */
export function imageRepositoryName(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}`;
}

/** Registries on loopback are spoken to over plain http, as docker does. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
