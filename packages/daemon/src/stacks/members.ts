// A project's containers, found by their compose labels, and the order they start and stop in.
import type { ContainerView } from '../containers/index.js';
import type { StackContainerOps } from './deps.js';
import { LABEL_NUMBER, LABEL_ONEOFF, LABEL_PROJECT, LABEL_SERVICE } from './labels.js';
import type { StackContainerView } from './types.js';

export function isRunning(v: ContainerView): boolean {
  return v.row.state === 'running' || v.row.state === 'restarting';
}

/** Every container of the project (replicas and one-off containers), by service then number. */
export function projectContainers(ops: Pick<StackContainerOps, 'list'>, project: string): StackContainerView[] {
  const out: StackContainerView[] = [];
  for (const view of ops.list({ all: true })) {
    const labels = JSON.parse(view.row.labels) as Record<string, string>;
    if (labels[LABEL_PROJECT] !== project) continue;
    const service = labels[LABEL_SERVICE] ?? '';
    out.push({
      view,
      labels,
      service,
      number: Number(labels[LABEL_NUMBER]) || 1,
      oneOff: labels[LABEL_ONEOFF] === 'True',
    });
  }
  return out.sort((a, b) => a.service.localeCompare(b.service) || a.number - b.number);
}

/** Containers grouped by start order (services not in it first). */
export function forwardGroups(list: StackContainerView[], order: string[][] | undefined): StackContainerView[][] {
  const groups: StackContainerView[][] = [];
  const placed = new Set<StackContainerView>();
  for (const g of order ?? []) {
    const these = list.filter((c) => g.includes(c.service));
    for (const c of these) placed.add(c);
    if (these.length) groups.push(these);
  }
  const rest = list.filter((c) => !placed.has(c));
  if (rest.length) groups.unshift(rest);
  return groups;
}

/** Containers grouped for stopping: dependents first. */
export function reverseGroups(list: StackContainerView[], order: string[][] | undefined): StackContainerView[][] {
  return forwardGroups(list, order).reverse();
}

/** docker compose's warning about containers of services the files no longer have. */
export function orphanWarning(orphans: StackContainerView[]): string {
  return `Found orphan containers (${orphans.map((o) => o.view.row.name).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`;
}

/** The service replicas `up`, `start`, `stop` … act on: not the one-off containers of `run`. */
export function replicas(list: StackContainerView[]): StackContainerView[] {
  return list.filter((c) => !c.oneOff);
}
