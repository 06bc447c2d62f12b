// pnpm bench:dockerfile — parse time of HYPR's Dockerfile parser against dockerfile-ast (npm), in the
// same run: a generated 5,000-instruction Dockerfile and the test corpus. Prints medians and the ratio.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { parseDockerfile, parseDockerfileAst } from '../packages/core/src/dockerfile/index.js';

const RUNS = Number(process.env.RUNS ?? 30);

function generate(instructions: number): string {
  const lines = ['# syntax=docker/dockerfile:1', 'ARG BASE=alpine:3.20'];
  let n = 0;
  let stage = 0;
  while (n < instructions) {
    lines.push(`FROM \${BASE} AS stage${stage}`);
    n++;
    for (let i = 0; i < 48 && n < instructions; i++, n++) {
      switch (i % 8) {
        case 0:
          lines.push(`ENV VAR_${i}=value-${i} OTHER_${i}="quoted value ${i}"`);
          break;
        case 1:
          lines.push(`RUN apt-get update && \\\n    apt-get install -y pkg${i} && \\\n    rm -rf /var/lib/apt/lists/*`);
          break;
        case 2:
          lines.push(`COPY --chown=1000:1000 src/${i}/ /app/${i}/`);
          break;
        case 3:
          lines.push(`ARG A_${i}=default-${i}`);
          break;
        case 4:
          lines.push(`RUN ["/bin/sh", "-c", "echo ${i}"]`);
          break;
        case 5:
          lines.push(`LABEL org.example.n${i}="label ${i}"`);
          break;
        case 6:
          lines.push(`WORKDIR /app/\${A_3:-x}/${i}`);
          break;
        default:
          lines.push(`RUN --mount=type=cache,target=/root/.cache echo $VAR_0 ${i}`);
      }
    }
    stage++;
  }
  return `${lines.join('\n')}\n`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => void): number {
  for (let i = 0; i < 5; i++) fn(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(samples);
}

const corpusRoot = join(import.meta.dirname, '../packages/core/test/fixtures/dockerfile');
const corpus = readdirSync(corpusRoot)
  .filter((c) => !c.startsWith('error-'))
  .map((c) => readFileSync(join(corpusRoot, c, 'Dockerfile'), 'utf8'))
  .filter((s) => {
    try {
      parseDockerfile(s, { platform: 'linux/amd64' });
      return true;
    } catch {
      return false; // a case whose expected result is an error (e.g. an undefined ARG in FROM)
    }
  });
const big = generate(5000);
const bigCount = parseDockerfileAst(big).nodes.length;

const cases = [
  { name: `generated (${bigCount} instructions)`, sources: [big] },
  { name: `corpus (${corpus.length} files)`, sources: corpus },
];

const fmt = (ms: number) => (ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(2)} ms`);
const rows: string[][] = [['case', 'hypr AST', 'hypr full', 'dockerfile-ast', 'ratio (AST)', 'ratio (full)']];
for (const c of cases) {
  const ast = time(() => {
    for (const s of c.sources) parseDockerfileAst(s);
  });
  const full = time(() => {
    for (const s of c.sources) parseDockerfile(s, { platform: 'linux/amd64' });
  });
  const theirs = time(() => {
    for (const s of c.sources) DockerfileParser.parse(s).getInstructions();
  });
  rows.push([
    c.name,
    fmt(ast),
    fmt(full),
    fmt(theirs),
    `${(ast / theirs).toFixed(2)}×`,
    `${(full / theirs).toFixed(2)}×`,
  ]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`median of ${RUNS} runs, Node ${process.version}, ${process.platform}/${process.arch}`);
for (const r of rows) console.log(r.map((cell, i) => cell.padEnd(widths[i])).join('  '));
