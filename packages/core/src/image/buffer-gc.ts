import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let minorGc: (() => void) | undefined | null = null;

/** V8's `gc` (minor collections only), exposed once for this process; undefined where it cannot be. */
function getMinorGc(): (() => void) | undefined {
  if (minorGc === null) {
    try {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as (opts: { type: 'minor' | 'major' }) => void;
      minorGc = () => gc({ type: 'minor' });
    } catch {
      minorGc = undefined;
    }
  }
  return minorGc;
}

/**
 * A pacer for code that streams many MiB through short-lived buffers (socket reads, file reads,
 * zlib output): call it with each chunk's size and it runs a minor collection once `everyBytes`
 * have passed. Each chunk is garbage as soon as it is hashed or written, but V8 frees a buffer
 * only when a collection finds it dead, and with next to no JS allocated that waits until tens
 * of MiB of dead buffers have piled up (the trigger is external memory growth). A scavenge of a
 * young generation this small takes well under a millisecond.
 */
export function createBufferCollector(everyBytes = 1 << 20): (bytes: number) => void {
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < everyBytes || everyBytes <= 0) return;
    since = 0;
    getMinorGc()?.();
  };
}
