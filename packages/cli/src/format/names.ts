// Image names and ids as docker shows them.

/** `docker.io/library/busybox:latest` → `busybox:latest`, `docker.io/me/app:1` → `me/app:1`. */
export function familiarName(name: string): string {
  return name.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}

/** Splits a familiar name into repository and tag (`<none>` when there is none). */
export function splitRepoTag(name: string): { repository: string; tag: string } {
  const at = name.indexOf('@');
  const base = at >= 0 ? name.slice(0, at) : name;
  const colon = base.lastIndexOf(':');
  if (colon > base.lastIndexOf('/')) return { repository: base.slice(0, colon), tag: base.slice(colon + 1) };
  return { repository: base, tag: '<none>' };
}

/** The 12-hex-digit short form of an id or digest. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
