import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { type TestStore, loadTestImage, openTestStore } from '../../test/helpers/build-store.js';
import { buildBusyboxImage } from '../../test/helpers/busybox-image.js';
import { createTar } from '../image/tar-writer.js';
import { buildImage } from './executor.js';
import type { BuildImageOptions, BuildRunNetwork } from './options.js';
import type { BuildStepResult, RunBuildStepOptions } from './step-vm.js';

// How RUN steps reach the step runner: consecutive ones of a stage in one call (one VM) with a layer
// each, metadata steps between them keeping their place, network from the caller's hook. The runner
// is a FAKE that writes a layer per command holding /ran/<command>; real VMs are in
// test/build-run-group.test.ts.

let ts: TestStore;
let ctx: string;
const calls: RunBuildStepOptions[] = [];

async function fakeRunStep(o: RunBuildStepOptions): Promise<BuildStepResult> {
  calls.push(o);
  const dir = await mkdtemp(join(tmpdir(), 'hypr-fake-group-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const layers: string[] = [];
  const results: { index: number; exitCode: number }[] = [];
  for (const [k, c] of o.commands.entries()) {
    const script = c.argv[c.argv.length - 1];
    const m = /^exit (\d+)$/.exec(script);
    results.push({ index: k, exitCode: m ? Number(m[1]) : 0 });
    if (m) {
      const failed = { index: k, exitCode: Number(m[1]), outputTail: 'boom\n' };
      return { results, failed, ...(o.layerPerCommand ? { layerTarPaths: layers } : {}), cleanup };
    }
    const path = join(dir, `${k}.tar`);
    await writeFile(path, createTar([{ path: `ran-${script.replace(/[^a-z0-9]+/gi, '-')}`, type: 'file', data: 'x' }]));
    layers.push(path);
    o.onCommandDone?.(k);
  }
  return o.layerPerCommand
    ? { results, layerTarPaths: layers, cleanup }
    : { results, layerTarPath: layers[0], cleanup };
}

beforeAll(async () => {
  ts = await openTestStore();
  await loadTestImage(ts.store, await buildBusyboxImage({ config: { WorkingDir: '/', Cmd: ['sh'] } }), 'base:1');
});
afterAll(async () => ts?.close());
beforeEach(async () => {
  calls.length = 0;
  ctx = await mkdtemp(join(tmpdir(), 'hypr-ctx-'));
});

const build = (dockerfile: string, extra: Partial<BuildImageOptions> = {}) =>
  buildImage({ contextDir: ctx, dockerfile, store: ts.store, runStep: fakeRunStep, groupRunSteps: true, ...extra });

const SIX_STEPS = [
  'FROM base:1',
  'RUN echo a',
  'ENV X=1',
  'RUN echo b',
  'USER 65534',
  'RUN echo c',
  'COPY f /f',
  'RUN echo d',
].join('\n');

describe('RUN steps of a stage in one VM (fake runner)', () => {
  test('consecutive RUN steps are one runner call with a layer each; history keeps the Dockerfile order', async () => {
    await writeFile(join(ctx, 'f'), 'f');
    const r = await build(SIX_STEPS, { noCache: true });
    expect(calls.map((c) => c.commands.length)).toEqual([3, 1]);
    expect(calls[0].layerPerCommand).toBe(true);
    expect(calls[0].commands[1].env).toContain('X=1');
    expect(calls[0].commands[2].user).toBe('65534');
    expect(r.vmBoots).toBe(2);
    expect(r.vmRuns).toBe(4);
    expect(r.image.config.history!.map((h) => h.created_by!.replace(/ # buildkit$/, '')).slice(-7)).toEqual([
      'RUN /bin/sh -c echo a',
      'ENV X=1',
      'RUN /bin/sh -c echo b',
      'USER 65534',
      'RUN /bin/sh -c echo c',
      'COPY f /f',
      'RUN /bin/sh -c echo d',
    ]);
    expect(r.steps.map((s) => [s.keyword, s.cached, s.layer !== undefined])).toEqual([
      ['RUN', false, true],
      ['RUN', false, true],
      ['RUN', false, true],
      ['COPY', false, true],
      ['RUN', false, true],
    ]);
  });

  test('one VM per step and one VM per group give the same image id; a rebuild runs nothing', async () => {
    await writeFile(join(ctx, 'f'), 'f');
    const grouped = await build(SIX_STEPS, { noCache: true });
    const alone = await build(SIX_STEPS, { noCache: true, groupRunSteps: false });
    expect(calls.slice(2).map((c) => c.commands.length)).toEqual([1, 1, 1, 1]);
    expect(alone.imageId).toBe(grouped.imageId);
    calls.length = 0;
    const again = await build(SIX_STEPS);
    expect(calls).toHaveLength(0);
    expect(again.vmBoots).toBe(0);
    expect(again.imageId).toBe(grouped.imageId);
  });

  test('a failing RUN in a group keeps the steps before it in the cache; a cached step ends a group', async () => {
    const err = await build('FROM base:1\nRUN echo one\nRUN echo two\nRUN exit 3\nRUN echo four\n').catch((e) => e);
    expect(err.code).toBe('BUILD_STEP_FAILED');
    expect(err.line).toBe(4);
    expect(calls[0].commands).toHaveLength(4);
    calls.length = 0;
    const r = await build('FROM base:1\nRUN echo one\nRUN echo two\nRUN echo three\nRUN echo two\n');
    expect(r.steps.map((s) => s.cached)).toEqual([true, true, false, false]);
    expect(calls.map((c) => c.commands.length)).toEqual([2]);
  });

  test('--no-cache-filter runs the named stage again and keeps the cache of the others', async () => {
    const df = 'FROM base:1 AS deps\nRUN echo deps\nFROM deps AS app\nRUN echo app\n';
    await build(df);
    calls.length = 0;
    const r = await build(df, { noCacheFilter: ['app'] });
    expect(r.steps.map((s) => [s.name, s.cached])).toEqual([
      ['[deps 2/2] RUN echo deps', true],
      ['[app 2/2] RUN echo app', false],
    ]);
  });

  test('a RUN with a mount runs alone', async () => {
    await build('FROM base:1\nRUN echo a\nRUN --mount=type=tmpfs,target=/t echo b\nRUN echo c\n', { noCache: true });
    expect(calls.map((c) => c.commands.length)).toEqual([1, 1, 1]);
    expect(calls[1].mounts).toEqual([{ type: 'tmpfs', target: '/t' }]);
  });
});

describe('RUN network (fake runner)', () => {
  const hook = () => {
    const log: string[] = [];
    const runNetwork = async (): Promise<BuildRunNetwork> => {
      log.push('acquire');
      return {
        nics: [{ tap: 'tap0', mac: '02:00:00:00:00:01', address: '10.9.0.2/24', gateway: '10.9.0.1' }],
        dns: ['10.9.0.1'],
        release: async () => {
          log.push('release');
        },
      };
    };
    return { log, runNetwork };
  };

  test('a VM gets the network from the hook and gives it back; RUN --network=none in it has none', async () => {
    const { log, runNetwork } = hook();
    await build('FROM base:1\nRUN echo a\nRUN --network=none echo b\n', { noCache: true, runNetwork });
    expect(log).toEqual(['acquire', 'release']);
    expect(calls[0].network?.dns).toEqual(['10.9.0.1']);
    expect(calls[0].commands.map((c) => c.network)).toEqual([undefined, 'none']);
  });

  test('--network none, or only --network=none steps: the hook is not called', async () => {
    const { log, runNetwork } = hook();
    await build('FROM base:1\nRUN echo a\n', { noCache: true, runNetwork, network: 'none' });
    await build('FROM base:1\nRUN --network=none echo a\n', { noCache: true, runNetwork });
    expect(log).toEqual([]);
    expect(calls.map((c) => c.network)).toEqual([undefined, undefined]);
    expect(calls[0].commands[0].network).toBe('none');
  });

  test('the network is released when the step fails; RUN --network=host is refused at its line', async () => {
    const { log, runNetwork } = hook();
    const err = await build('FROM base:1\nRUN exit 2\n', { noCache: true, runNetwork }).catch((e) => e);
    expect(err.code).toBe('BUILD_STEP_FAILED');
    expect(log).toEqual(['acquire', 'release']);
    const host = await build('FROM base:1\nRUN --network=host echo a\n', { runNetwork }).catch((e) => e);
    expect(host.code).toBe('BUILD_NETWORK_UNSUPPORTED');
    expect(host.line).toBe(2);
  });
});
