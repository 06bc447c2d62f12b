import { HyprError, type NetworkRecord } from '@hypr/core';

/** docker's `network ls --filter`: name (substring), id (prefix), label (KEY or KEY=VALUE), driver. */
export function networkMatches(n: NetworkRecord, filters: readonly string[]): boolean {
  return filters.every((f) => {
    const eq = f.indexOf('=');
    if (eq < 0) throw new HyprError('INVALID_FILTER', `bad format of filter (expected name=value): ${f}`);
    const key = f.slice(0, eq);
    const value = f.slice(eq + 1);
    if (key === 'name') return n.name.includes(value);
    if (key === 'id') return n.id.startsWith(value);
    if (key === 'driver') return n.driver === value;
    if (key === 'label') {
      const [k, ...v] = value.split('=');
      return k in n.labels && (v.length === 0 || n.labels[k] === v.join('='));
    }
    throw new HyprError('INVALID_FILTER', `invalid filter '${key}'`);
  });
}
