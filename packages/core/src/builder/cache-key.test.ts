import { chmod, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parseDockerfile } from '../dockerfile/index.js';
import { type ContextFile, canonicalJson, computeBuildCacheKeys, readBuildContext } from './cache-key.js';
import { createBuildGraph } from './dag.js';

const dockerfile = `FROM node:20 AS build
ARG NODE_ENV=production
ARG UNUSED=1
WORKDIR /app
COPY package.json ./
RUN npm ci
COPY src/ ./src/
ENV GREETING=hi
RUN npm run build
FROM nginx:1.27
COPY --from=build /app/dist /usr/share/nginx/html
`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hypr-cache-'));
  await mkdir(join(dir, 'src'));
  await writeFile(join(dir, 'package.json'), '{"name":"x"}');
  await writeFile(join(dir, 'src/a.js'), 'a');
  await writeFile(join(dir, 'src/b.js'), 'b');
  await writeFile(join(dir, 'README.md'), 'docs');
  await writeFile(join(dir, '.dockerignore'), 'README.md\nsrc/*.log\n');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function keys(opts: { buildArgs?: Record<string, string>; source?: string } = {}) {
  const df = parseDockerfile(opts.source ?? dockerfile, { buildArgs: opts.buildArgs });
  const files = await readBuildContext(dir, { dockerignore: '.dockerignore\nREADME.md\nsrc/*.log\n' });
  const k = computeBuildCacheKeys(createBuildGraph(df), { contextFiles: files, platform: 'linux/amd64' });
  return { all: [...k.steps.values()].flat().map((s) => s.key), steps: k.steps, final: k.finals.get(1)! };
}

describe('cache keys', () => {
  test('the same inputs give the same keys; touching mtimes and editing ignored files keep them', async () => {
    const a = await keys();
    await utimes(join(dir, 'src/a.js'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    await writeFile(join(dir, 'README.md'), 'changed docs');
    await writeFile(join(dir, 'src/debug.log'), 'ignored');
    expect((await keys()).all).toEqual(a.all);
  });

  test('changing a copied byte changes that step and the ones after it only', async () => {
    const a = await keys();
    await writeFile(join(dir, 'src/b.js'), 'B');
    const b = await keys();
    const sa = a.steps.get(0)!.map((s) => s.key);
    const sb = b.steps.get(0)!.map((s) => s.key);
    expect(sb.slice(0, 5)).toEqual(sa.slice(0, 5)); // ARG, ARG, WORKDIR, COPY package.json, RUN npm ci
    expect(sb[5]).not.toBe(sa[5]); // COPY src/
    expect(sb[7]).not.toBe(sa[7]); // RUN npm run build
    expect(b.final).not.toBe(a.final);
  });

  test('changing a mode changes the key', async () => {
    const a = await keys();
    await chmod(join(dir, 'src/a.js'), 0o755);
    expect((await keys()).all).not.toEqual(a.all);
  });

  test('a build arg changes the RUN steps that see it, not the COPY before them', async () => {
    const a = (await keys()).steps.get(0)!;
    const b = (await keys({ buildArgs: { NODE_ENV: 'development' } })).steps.get(0)!;
    expect(b[3].key).toBe(a[3].key); // COPY package.json
    expect(b[4].key).not.toBe(a[4].key); // RUN npm ci sees NODE_ENV
  });

  test('keys do not depend on the order files are listed in', () => {
    const files: ContextFile[] = [
      { path: 'a', type: 'file', mode: 0o644, sha256: '1' },
      { path: 'b', type: 'file', mode: 0o644, sha256: '2' },
    ];
    const df = parseDockerfile('FROM scratch\nCOPY . /\n');
    const g = createBuildGraph(df);
    const k1 = computeBuildCacheKeys(g, { contextFiles: files }).finals.get(0);
    const k2 = computeBuildCacheKeys(g, { contextFiles: [...files].reverse() }).finals.get(0);
    expect(k1).toBe(k2);
    expect(k1).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test('an unread ENV does not invalidate later COPY layers; a known image digest does', () => {
    const base = 'FROM alpine\nENV X=1\nCOPY a /a\n';
    const files: ContextFile[] = [{ path: 'a', type: 'file', mode: 0o644, sha256: '1' }];
    const k = (src: string, digests?: Record<string, string>) =>
      computeBuildCacheKeys(createBuildGraph(parseDockerfile(src)), {
        contextFiles: files,
        imageDigests: digests,
      }).finals.get(0);
    expect(k(base.replace('X=1', 'X=2'))).toBe(k(base));
    expect(k(base, { alpine: 'sha256:aa' })).not.toBe(k(base));
  });

  test('canonical JSON sorts keys at every depth', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(obj));
      }),
    );
  });
});
