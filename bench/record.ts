import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Replaces (or appends) the "## <title>" section of docs/benchmarks.md, stamped with machine and date. */
export function recordSection(title: string, body: string, file = 'docs/benchmarks.md'): void {
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}, ${process.platform}`;
  const date = new Date().toISOString().slice(0, 10);
  const section = `## ${title}\n\nMeasured ${date} on ${machine}.\n\n${body.trim()}\n`;
  const doc = existsSync(file)
    ? readFileSync(file, 'utf8')
    : '# Benchmarks\n\nEvery figure names its machine, date and method. Scripts live in bench/ and run with `pnpm bench:<what>`.\n';
  const re = new RegExp(`## ${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n[\\s\\S]*?(?=\\n## |$)`);
  const next = re.test(doc) ? doc.replace(re, section.trimEnd()) : `${doc.trimEnd()}\n\n${section}`;
  writeFileSync(file, next.endsWith('\n') ? next : `${next}\n`);
}
