/**
 * Splits a byte stream into '\n'-terminated lines, given without the '\n'; a partial last line
 * waits for the next chunk. With maxPending, a partial line that grows past it is dropped (a
 * reader of short markers need not buffer garbage without bound).
 */
export function createLineSplitter(onLine: (line: string) => void, maxPending = Number.POSITIVE_INFINITY) {
  let pending = '';
  return (chunk: Buffer | string): void => {
    pending += chunk.toString();
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      onLine(line);
      nl = pending.indexOf('\n');
    }
    if (pending.length > maxPending) pending = '';
  };
}
