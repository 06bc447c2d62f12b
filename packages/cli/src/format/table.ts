/** Aligns tab-separated rows into columns like Go's tabwriter with docker's settings (padding 3). */
export function renderColumns(rows: readonly string[][], padding = 3): string {
  const widths: number[] = [];
  for (const r of rows)
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...c].length);
    });
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i] - [...c].length + padding)))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}

export function renderTabbed(lines: readonly string[]): string {
  return renderColumns(lines.map((l) => l.split('\t')));
}
