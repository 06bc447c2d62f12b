// Docker's wording for container states and ages (ps STATUS, "2 minutes ago").
import { humanDuration } from '@hypr/api/units';

export interface StatusInput {
  state: string;
  exitCode: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  health?: string | null;
}

/** The STATUS column: `Up 5 seconds (healthy)`, `Exited (0) 2 minutes ago`, `Created`. */
export function containerStatus(c: StatusInput, now = Date.now()): string {
  switch (c.state) {
    case 'running': {
      const health = c.health ? ` (${c.health === 'starting' ? 'health: starting' : c.health})` : '';
      return `Up ${humanDuration(now - (c.startedAt ?? now))}${health}`;
    }
    case 'paused':
      return `Up ${humanDuration(now - (c.startedAt ?? now))} (Paused)`;
    case 'restarting':
      return `Restarting (${c.exitCode ?? 0}) ${humanDuration(now - (c.finishedAt ?? now))} ago`;
    case 'exited':
      return c.finishedAt
        ? `Exited (${c.exitCode ?? 0}) ${humanDuration(now - c.finishedAt)} ago`
        : `Exited (${c.exitCode ?? 0})`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    default:
      return 'Created';
  }
}
