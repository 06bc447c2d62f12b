// Docker's wording for container states and ages (ps STATUS, "2 minutes ago").

/** Docker's units.HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.round(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

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
