import { HyprError } from '@hypr/core';
import { isUp } from './store.js';
import type { ContainerView } from './types.js';

const KEYS = ['id', 'name', 'status', 'label', 'exited', 'ancestor', 'before', 'since'];

/** docker ps --filter: values of one key are ORed, different keys ANDed. */
export function filterContainers(views: ContainerView[], filters: readonly string[], all: boolean): ContainerView[] {
  const byKey = new Map<string, string[]>();
  for (const f of filters) {
    const i = f.indexOf('=');
    if (i <= 0) throw new HyprError('INVALID_FILTER', `bad format of filter (expected name=value): ${f}`);
    const key = f.slice(0, i).toLowerCase();
    if (!KEYS.includes(key)) throw new HyprError('INVALID_FILTER', `invalid filter '${key}'`);
    byKey.set(key, [...(byKey.get(key) ?? []), f.slice(i + 1)]);
  }
  const has = (key: string, test: (v: string) => boolean) => {
    const values = byKey.get(key);
    return !values || values.some(test);
  };
  const created = (text: string) => views.find((v) => v.row.id.startsWith(text) || v.row.name === text)?.row.createdAt;
  return views.filter(({ row, config }) => {
    if (!all && !byKey.has('status') && !isUp(row.state)) return false;
    const labels = JSON.parse(row.labels) as Record<string, string>;
    return (
      has('id', (v) => row.id.startsWith(v)) &&
      has('name', (v) => row.name.includes(v.replace(/^\//, ''))) &&
      has('status', (v) => row.state === v) &&
      has('exited', (v) => row.state === 'exited' && row.exitCode === Number(v)) &&
      has('ancestor', (v) => row.imageRef === v || config.imageId.includes(v) || row.imageDigest.includes(v)) &&
      has('before', (v) => (created(v) ?? 0) > row.createdAt) &&
      has('since', (v) => (created(v) ?? Number.POSITIVE_INFINITY) < row.createdAt) &&
      has('label', (v) => {
        const j = v.indexOf('=');
        return j < 0 ? v in labels : labels[v.slice(0, j)] === v.slice(j + 1);
      })
    );
  });
}
