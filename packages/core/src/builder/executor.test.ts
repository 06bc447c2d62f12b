import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { type TestStore, loadTestImage, openTestStore } from '../../test/helpers/build-store.js';
import { buildBusyboxImage } from '../../test/helpers/busybox-image.js';
import { readTar } from '../image/tar-reader.js';
import { createTar } from '../image/tar-writer.js';
import { buildImage } from './executor.js';
import type { BuildStepResult, RunBuildStepOptions } from './step-vm.js';

// Unit tests of the executor's host-side work (COPY, config, cache, graph) with a FAKE step runner:
// it never runs the command, it writes a layer holding /ran/<n> with the argv. The real runner and
// real VMs are exercised in test/build-executor.test.ts.

let ts: TestStore;
let ctx: string;
const calls: RunBuildStepOptions[] = [];

/** Names the fake's files by command (a pure function of the input) instead of by call. */
let nameByArgv = false;

async function fakeRunStep(o: RunBuildStepOptions): Promise<BuildStepResult> {
  calls.push(o);
  const dir = await mkdtemp(join(tmpdir(), 'hypr-fake-step-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const layers: string[] = [];
  const results: { index: number; exitCode: number }[] = [];
  for (const [k, command] of o.commands.entries()) {
    const argv = command.argv;
    const m = /^exit (\d+)$/.exec(argv[argv.length - 1]);
    if (m) {
      results.push({ index: k, exitCode: Number(m[1]) });
      const failed = { index: k, exitCode: Number(m[1]), outputTail: 'line 1\nboom\n' };
      return { results, failed, ...(o.layerPerCommand ? { layerTarPaths: layers } : {}), cleanup };
    }
    const path = join(dir, `layer-${k}.tar`);
    const name = nameByArgv ? argv.join(' ').replace(/[^a-z0-9]+/gi, '-') : String(calls.length);
    await writeFile(
      path,
      createTar([
        { path: 'ran', type: 'directory', mtime: 1234 },
        { path: `ran/${name}`, type: 'file', data: argv.join(' '), mtime: 5678 },
      ]),
    );
    results.push({ index: k, exitCode: 0 });
    layers.push(path);
    o.onCommandDone?.(k);
  }
  return o.layerPerCommand
    ? { results, layerTarPaths: layers, cleanup }
    : { results, layerTarPath: layers[0], cleanup };
}

async function layerFiles(digest: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const { decompressLayer } = await import('../image/decompress.js');
  for await (const { header, body } of readTar(decompressLayer(ts.store.blobs.openBlob(digest)))) {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c);
    out.set(
      `${header.path}|${header.type}|${header.mode.toString(8)}|${header.uid}:${header.gid}`,
      Buffer.concat(chunks).toString(),
    );
  }
  return out;
}

beforeAll(async () => {
  ts = await openTestStore();
  await loadTestImage(ts.store, await buildBusyboxImage({ config: { WorkingDir: '/', Cmd: ['sh'] } }), 'base:1');
});
afterAll(async () => ts?.close());
beforeEach(async () => {
  calls.length = 0;
  nameByArgv = false;
  ctx = await mkdtemp(join(tmpdir(), 'hypr-ctx-'));
});

const build = (dockerfile: string, extra: Partial<Parameters<typeof buildImage>[0]> = {}) =>
  buildImage({ contextDir: ctx, dockerfile, store: ts.store, runStep: fakeRunStep, tags: ['app:test'], ...extra });

describe('executor with a fake step runner (unit)', () => {
  test('COPY writes the context files as root, with --chmod, into missing parents; metadata lands in the config', async () => {
    await writeFile(join(ctx, 'a.txt'), 'A');
    await mkdir(join(ctx, 'src/sub'), { recursive: true });
    await writeFile(join(ctx, 'src/sub/b.txt'), 'B');
    const r = await build(
      [
        'FROM base:1',
        'ENV GREETING=hi',
        'WORKDIR /app',
        'COPY a.txt .',
        'COPY --chmod=0600 --chown=7:8 src/ /opt/src/',
        'LABEL x=y',
        'EXPOSE 80 53/udp',
        'ENTRYPOINT ["/bin/sh"]',
        'CMD ["-c", "echo $GREETING"]',
        'USER nobody',
      ].join('\n'),
    );
    expect(r.vmRuns).toBe(0);
    const c = r.image.config.config!;
    expect(c.Env).toContain('GREETING=hi');
    expect(c.WorkingDir).toBe('/app');
    expect(c.Labels).toEqual({ x: 'y' });
    expect(Object.keys(c.ExposedPorts!).sort()).toEqual(['53/udp', '80/tcp']);
    expect(c.Entrypoint).toEqual(['/bin/sh']);
    expect(c.Cmd).toEqual(['-c', 'echo $GREETING']);
    expect(c.User).toBe('nobody');
    expect(r.image.layers).toHaveLength(4); // base + WORKDIR + 2 COPY
    const workdir = await layerFiles(r.image.layers[1].digest);
    expect([...workdir.keys()]).toEqual(['app/|directory|755|0:0']);
    const copy1 = await layerFiles(r.image.layers[2].digest);
    expect([...copy1.keys()]).toEqual(['app/a.txt|file|644|0:0']);
    const copy2 = await layerFiles(r.image.layers[3].digest);
    expect([...copy2.keys()]).toEqual([
      'opt/|directory|755|7:8',
      'opt/src/|directory|600|7:8',
      'opt/src/sub/|directory|600|7:8',
      'opt/src/sub/b.txt|file|600|7:8',
    ]);
    expect(r.image.config.history!.filter((h) => !h.empty_layer)).toHaveLength(4);
    expect(r.tags).toEqual(['docker.io/library/app:test']);
  });

  test('RUN gets the env, ARGs, workdir and user of its scope; the layer is normalised', async () => {
    const r = await build(
      ['FROM base:1', 'ARG V=1', 'ENV E=2', 'WORKDIR /w', 'USER 65534', 'RUN echo "$V $E"'].join('\n'),
      { buildArgs: { HTTP_PROXY: 'http://proxy:3128' } },
    );
    expect(calls).toHaveLength(1);
    const cmd = calls[0].commands[0];
    expect(cmd.argv).toEqual(['/bin/sh', '-c', 'echo "$V $E"']);
    expect(cmd.env).toEqual(expect.arrayContaining(['E=2', 'V=1', 'HTTP_PROXY=http://proxy:3128']));
    expect(cmd.workdir).toBe('/w');
    expect(cmd.user).toBe('65534');
    const files = await layerFiles(r.image.layers[r.image.layers.length - 1].digest);
    expect([...files.keys()]).toEqual(['ran/|directory|755|0:0', 'ran/1|file|644|0:0']);
    expect(r.image.config.history!.at(-1)!.created_by).toBe('RUN /bin/sh -c echo "$V $E" # buildkit');
  });

  test('a rebuild of an unchanged project hits the cache for every step and runs nothing', async () => {
    await writeFile(join(ctx, 'f'), 'one');
    const df = 'FROM base:1\nRUN echo first\nCOPY f /f\nRUN echo after-copy\n';
    const a = await build(df);
    expect(calls).toHaveLength(2);
    const b = await build(df);
    expect(calls).toHaveLength(2);
    expect(b.vmRuns).toBe(0);
    expect(b.cachedSteps).toBe(3);
    expect(b.imageId).toBe(a.imageId);
    // A changed file re-runs from its COPY on.
    await writeFile(join(ctx, 'f'), 'two');
    const c = await build(df);
    expect(c.steps.map((s) => s.cached)).toEqual([true, false, false]);
    expect(calls).toHaveLength(3);
    expect(c.imageId).not.toBe(a.imageId);
  });

  test('two --no-cache builds of the same inputs give the same image id', async () => {
    await writeFile(join(ctx, 'f'), 'same');
    const df = 'FROM base:1\nCOPY f /f\nRUN echo x\n';
    const a = await build(df, { noCache: true });
    calls.length = 0; // the fake numbers its files by call
    const b = await build(df, { noCache: true });
    expect(b.cachedSteps).toBe(0);
    expect(b.imageId).toBe(a.imageId);
  });

  test('.dockerignore keeps files out of COPY . and its cache key', async () => {
    await writeFile(join(ctx, '.dockerignore'), 'secret.txt\n*.log\n');
    await writeFile(join(ctx, 'secret.txt'), 's');
    await writeFile(join(ctx, 'x.log'), 'l');
    await writeFile(join(ctx, 'keep'), 'k');
    const df = 'FROM base:1\nCOPY . /ctx/\n';
    const r = await build(df);
    const files = await layerFiles(r.image.layers.at(-1)!.digest);
    expect([...files.keys()].map((k) => k.split('|')[0])).toEqual(['ctx/', 'ctx/.dockerignore', 'ctx/keep']);
    await writeFile(join(ctx, 'x.log'), 'changed');
    expect((await build(df)).cachedSteps).toBe(1);
  });

  test('multi-stage: COPY --from a stage; independent stages both run; --target picks a stage', async () => {
    const df = [
      'FROM base:1 AS one',
      'RUN echo one',
      'FROM base:1 AS two',
      'RUN echo two',
      'FROM scratch',
      'COPY --from=one /ran/ /from-one/',
      'COPY --from=two /bin/busybox /busybox',
    ].join('\n');
    const r = await build(df);
    expect(calls).toHaveLength(2);
    expect(r.image.layers).toHaveLength(2);
    const files = [...(await layerFiles(r.image.layers[0].digest)).keys()].map((k) => k.split('|')[0]);
    expect(files).toHaveLength(2);
    expect(files[0]).toBe('from-one/');
    const t = await build(df, { target: 'two', noCache: true });
    expect(t.steps.map((s) => s.name)).toEqual(['[two 2/2] RUN echo two']);
  });

  test('ADD of a local tar archive unpacks it', async () => {
    const { gzipSync } = await import('node:zlib');
    await writeFile(
      join(ctx, 'a.tar.gz'),
      gzipSync(createTar([{ path: 'inner/x', type: 'file', data: 'X', uid: 5, gid: 6 }])),
    );
    const r = await build('FROM base:1\nADD a.tar.gz /opt/\n');
    const files = [...(await layerFiles(r.image.layers.at(-1)!.digest)).keys()];
    expect(files).toEqual(['opt/|directory|755|0:0', 'opt/inner/|directory|755|0:0', 'opt/inner/x|file|644|5:6']);
  });

  test('a failing RUN names the step, the line, the exit code and the output tail', async () => {
    const err = await build('FROM base:1\nRUN echo ok\nRUN exit 3\n').catch((e) => e);
    expect(err.code).toBe('BUILD_STEP_FAILED');
    expect(err.message).toBe(
      '[3/3] RUN exit 3: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3',
    );
    expect(err.line).toBe(3);
    expect(err.format()).toContain('ERROR: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3');
    expect(err.format()).toContain('   3 | >>> RUN exit 3');
    expect(err.format()).toContain('boom');
    expect(ts.store.findImage('app:test')?.config.history?.at(-1)?.created_by).not.toContain('exit 3');
  });

  test('a missing COPY source is located at its line', async () => {
    const err = await build('FROM base:1\nCOPY nope /x\n').catch((e) => e);
    expect(err.code).toBe('BUILD_COPY_SOURCE_NOT_FOUND');
    expect(err.line).toBe(2);
  });

  test('--platform other than the host is refused clearly', async () => {
    const err = await build('FROM base:1\n', { platform: 'linux/s390x' }).catch((e) => e);
    expect(err.code).toBe('BUILD_PLATFORM_UNSUPPORTED');
  });

  test('Dockerfile read from dockerfilePath, Dockerfile-specific .dockerignore', async () => {
    await writeFile(join(ctx, 'build.Dockerfile'), 'FROM base:1\nCOPY . /c/\n');
    await writeFile(join(ctx, 'build.Dockerfile.dockerignore'), '*.Dockerfile*\n');
    await writeFile(join(ctx, 'z'), 'z');
    const r = await buildImage({
      contextDir: ctx,
      dockerfilePath: join(ctx, 'build.Dockerfile'),
      store: ts.store,
      runStep: fakeRunStep,
    });
    const files = [...(await layerFiles(r.image.layers.at(-1)!.digest)).keys()].map((k) => k.split('|')[0]);
    expect(files).toEqual(['c/', 'c/z']);
    expect(await readFile(join(ctx, 'z'), 'utf8')).toBe('z');
  });
});
