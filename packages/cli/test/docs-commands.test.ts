// Every `hypr …` command that README.md and docs/*.md show exists in the CLI, and `hypr --help` lists
// every command and topic. Reads the oclif manifest the CLI build writes (pnpm -C packages/cli build).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const CLI = resolve(import.meta.dirname, '..');
const ROOT = resolve(CLI, '../..');
const MANIFEST = join(CLI, 'oclif.manifest.json');

function loadIds(): Set<string> {
  if (!existsSync(MANIFEST))
    throw new Error(`${MANIFEST} is missing: build the CLI first (pnpm -C packages/cli build)`);
  const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as {
    commands: Record<string, { aliases?: string[]; hidden?: boolean }>;
  };
  const ids = new Set<string>();
  for (const [id, c] of Object.entries(manifest.commands)) {
    ids.add(id);
    for (const a of c.aliases ?? []) ids.add(a);
  }
  return ids;
}

/**
 * The `hypr …` commands a markdown text shows: in code fences, and in `inline code` elsewhere; not
 * under a heading that lists what is missing ("Not done yet").
 */
function documentedCommands(markdown: string, topics: ReadonlySet<string>): { id: string; line: number }[] {
  const found: { id: string; line: number }[] = [];
  let inFence = false;
  let absent = false; // under a "Not done yet" heading: commands named as missing, not shown as usable
  markdown.split('\n').forEach((text, i) => {
    if (/^\s*```/.test(text)) {
      inFence = !inFence;
      return;
    }
    if (!inFence && /^#+\s/.test(text)) absent = /not (done|supported|implemented)|not yet|missing/i.test(text);
    if (absent) return;
    const spans = inFence ? [text] : [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    for (const span of spans) {
      // a command starts the span or follows ; && || | $( — after an optional prompt or sudo
      const re =
        /(?:^|[;&|]|\$\()\s*(?:\$\s+|#\s+)?(?:sudo\s+|pnpm\s+(?:-s\s+)?exec\s+|npx\s+)?hypr\s+([a-z][a-z-]*)(?=\s|$)(?:\s+([a-z][a-z-]*)(?=\s|$))?/g;
      for (const [, a, b] of span.matchAll(re)) {
        if (topics.has(a) && !b) continue; // `hypr compose -f x up`: flags before the command
        found.push({ id: topics.has(a) ? `${a}:${b}` : a, line: i + 1 });
      }
    }
  });
  return found;
}

describe('the documentation shows only commands the CLI has', () => {
  const ids = loadIds();
  const topics = new Set([...ids].filter((id) => id.includes(':')).map((id) => id.split(':')[0]));
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f));

  test.each(['README.md', ...docs])('%s', (file) => {
    const missing = documentedCommands(readFileSync(join(ROOT, file), 'utf8'), topics)
      .filter(({ id }) => !ids.has(id) && !ids.has(id.split(':')[0]))
      .map(({ id, line }) => `${file}:${line} hypr ${id.replace(':', ' ')}`);
    expect(missing).toEqual([]);
  });

  test('the walker finds commands in fences, inline code, after prompts and pipes', () => {
    const md = [
      '```',
      '$ hypr run -d nginx',
      'hypr compose up',
      '```',
      'Use `hypr image ls | head` or `sudo hypr info`.',
    ];
    expect(documentedCommands(md.join('\n'), new Set(['compose', 'image'])).map((c) => c.id)).toEqual([
      'run',
      'compose:up',
      'image:ls',
      'info',
    ]);
  });
});

describe("docker's management forms are commands", () => {
  const ids = loadIds();
  test.each([
    ...'ls ps list run create start stop restart kill rm remove logs exec inspect attach wait port prune'
      .split(' ')
      .map((c) => `container:${c}`),
    ...'ls list pull push rm remove tag inspect save load prune'.split(' ').map((c) => `image:${c}`),
    'info',
    'system:info',
  ])('hypr %s', (id) => expect(ids.has(id)).toBe(true));
});

test('hypr --help lists every command and topic', () => {
  const help = execFileSync(process.execPath, [join(CLI, 'bin/hypr.cjs'), '--help'], { encoding: 'utf8' });
  const listed = new Set([...help.matchAll(/^ {2}([a-z][a-z-]*)\s/gm)].map((m) => m[1]));
  const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as { commands: Record<string, { hidden?: boolean }> };
  const firstWords = new Set(
    Object.entries(manifest.commands)
      .filter(([, c]) => !c.hidden)
      .map(([id]) => id.split(':')[0]),
  );
  expect([...firstWords].filter((w) => !listed.has(w))).toEqual([]);
});
