import type { PullProgress } from '@hypr/core';

/**
 * Byte progress, thinned for the wire: every change of a blob's state passes, and while a blob
 * downloads at most one message per `intervalMs` (about ten a second).
 */
export function throttleBlobProgress(send: (p: PullProgress) => void, intervalMs = 100): (p: PullProgress) => void {
  const last = new Map<string, number>();
  return (p) => {
    const now = Date.now();
    if (p.status === 'downloading' && now - (last.get(p.digest) ?? 0) < intervalMs) return;
    last.set(p.digest, now);
    send(p);
  };
}
