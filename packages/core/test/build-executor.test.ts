import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BuildStepRunner, buildImage } from '../src/builder/executor.js';
import type { BuildImageOptions } from '../src/builder/executor.js';
import { runBuildStep } from '../src/builder/step-vm.js';
import { resolveImageRunSpec } from '../src/image/run-config.js';
import { getRootfsDisk } from '../src/rootfs/cache.js';
import { runVm } from '../src/vmm/guest-vm.js';
import { type TestStore, openTestStore } from './helpers/build-store.js';
import { pushBusyboxImage } from './helpers/busybox-image.js';
import { type TestRegistry, startRegistry } from './helpers/registry.js';
import { assertVmPrerequisites } from './helpers/vm.js';

// `docker build` end to end on real microVMs (QEMU, TCG here): the base image is pulled from a
// real registry on 127.0.0.1, every RUN boots a VM through runBuildStep, and the built image is
// booted from its rootfs disk to check what a user of it sees.

let registry: TestRegistry;
let ts: TestStore;
let base: string;
let vmSteps = 0;
const countingRunner: BuildStepRunner = (o) => {
  vmSteps++;
  return runBuildStep(o);
};

beforeAll(async () => {
  assertVmPrerequisites();
  registry = await startRegistry();
  ts = await openTestStore();
  ({ ref: base } = await pushBusyboxImage(registry, 'busybox:1'));
}, 60_000);
afterAll(async () => {
  await ts?.close();
  await registry?.stop();
});

async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hypr-build-ctx-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

const build = (contextDir: string, extra: Partial<BuildImageOptions> = {}) =>
  buildImage({ contextDir, store: ts.store, runStep: countingRunner, groupRunSteps: true, ...extra });

/** Boots the image with its Cmd (or `argv`) and returns stdout. */
async function runImage(name: string, argv?: string[]): Promise<{ stdout: string; exitCode: number }> {
  const image = ts.store.resolveImage(name);
  const disk = await getRootfsDisk(ts.store, image);
  const spec = resolveImageRunSpec(image.config, argv ? { command: argv } : {});
  const r = await runVm({
    rootfs: { disk: disk.path },
    argv: spec.argv,
    env: spec.env,
    workdir: spec.workdir,
    user: spec.user,
  });
  return { stdout: r.stdout, exitCode: r.exitCode };
}

describe('hypr build in microVMs', () => {
  test('a multi-stage build runs, COPY --from carries the program, and the image prints the expected output', async () => {
    const ctx = await project({
      Dockerfile: [
        `FROM ${base} AS builder`,
        'WORKDIR /src',
        'COPY greet.sh .',
        'RUN mkdir -p /out && sed "s/NAME/world/" greet.sh > /out/greet && chmod 755 /out/greet',
        `FROM ${base}`,
        'COPY --from=builder /out/greet /usr/local/bin/greet',
        'ENV WHO=hypr',
        'CMD ["greet"]',
      ].join('\n'),
      'greet.sh': '#!/bin/sh\necho "hello NAME from $WHO"\n',
    });
    try {
      const r = await build(ctx, { tags: ['greeter:1'] });
      expect(r.vmRuns).toBe(1);
      expect(r.tags).toEqual(['docker.io/library/greeter:1']);
      const out = await runImage('greeter:1');
      expect(out.stdout).toBe('hello world from hypr\n');
    } finally {
      await rm(ctx, { recursive: true, force: true });
    }
  }, 240_000);

  test('rebuild with no change boots no VM and gives the same image id; a changed file rebuilds from its COPY', async () => {
    const ctx = await project({
      Dockerfile: [
        `FROM ${base}`,
        'RUN echo one > /one',
        'COPY app.txt /app.txt',
        'RUN cat /app.txt /one > /both',
        'CMD ["cat", "/both"]',
      ].join('\n'),
      'app.txt': 'v1\n',
    });
    try {
      const first = await build(ctx, { tags: ['cached:1'] });
      expect(first.vmRuns).toBe(2);
      const before = vmSteps;
      const again = await build(ctx, { tags: ['cached:1'] });
      expect(vmSteps).toBe(before); // no VM at all
      expect(again.vmRuns).toBe(0);
      expect(again.cachedSteps).toBe(3);
      expect(again.imageId).toBe(first.imageId);

      await writeFile(join(ctx, 'app.txt'), 'v2\n');
      const changed = await build(ctx, { tags: ['cached:2'] });
      expect(changed.steps.map((s) => [s.keyword, s.cached])).toEqual([
        ['RUN', true],
        ['COPY', false],
        ['RUN', false],
      ]);
      expect(changed.vmRuns).toBe(1);
      expect((await runImage('cached:2')).stdout).toBe('v2\none\n');
    } finally {
      await rm(ctx, { recursive: true, force: true });
    }
  }, 300_000);

  test('a failing RUN reports its exit code, step, Dockerfile line and output; nothing is tagged', async () => {
    const ctx = await project({
      Dockerfile: `FROM ${base}\nRUN echo fine\nRUN echo "about to fail" && exit 3\n`,
    });
    try {
      const err = await build(ctx, { tags: ['broken:1'] }).catch((e) => e);
      expect(err.code).toBe('BUILD_STEP_FAILED');
      expect(err.exitCode).toBe(3);
      expect(err.line).toBe(3);
      expect(err.message).toBe(
        '[3/3] RUN echo "about to fail" && exit 3: process "/bin/sh -c echo \\"about to fail\\" && exit 3" did not complete successfully: exit code: 3'.replace(
          /\\"/g,
          '"',
        ),
      );
      expect(err.format()).toContain('about to fail');
      expect(err.format()).toContain('ERROR: process "/bin/sh -c echo "about to fail" && exit 3" did not complete');
      expect(ts.store.findImage('broken:1')).toBeUndefined();
    } finally {
      await rm(ctx, { recursive: true, force: true });
    }
  }, 240_000);

  test('a RUN that deletes base files gives an image without them; .dockerignored files never reach the image', async () => {
    const ctx = await project({
      Dockerfile: [
        `FROM ${base}`,
        'COPY . /ctx/',
        'RUN rm /etc/group /bin/vi && rm -r /root && ls /ctx > /ctx-list && ls -a /ctx | grep -c secret >> /ctx-list || true',
        'CMD ["sh", "-c", "cat /ctx-list; [ -e /etc/group ] || echo no-group; [ -e /bin/vi ] || echo no-vi; [ -e /root ] || echo no-root; cat /etc/passwd | head -c 5"]',
      ].join('\n'),
      '.dockerignore': 'secret.env\n',
      'secret.env': 'TOKEN=1\n',
      'main.txt': 'main\n',
    });
    try {
      await build(ctx, { tags: ['deleted:1'] });
      const out = await runImage('deleted:1');
      expect(out.stdout).toBe('Dockerfile\nmain.txt\n0\nno-group\nno-vi\nno-root\nroot:');
    } finally {
      await rm(ctx, { recursive: true, force: true });
    }
  }, 240_000);

  test('secret and cache mounts reach the RUN; the secret is in no layer and no history', async () => {
    const ctx = await project({
      Dockerfile: [
        `FROM ${base}`,
        'RUN --mount=type=secret,id=tok --mount=type=cache,target=/cache <<EOF',
        'wc -c < /run/secrets/tok > /secret-len',
        'echo x >> /cache/hits; wc -l < /cache/hits > /cache-hits',
        'EOF',
        'CMD ["cat", "/secret-len", "/cache-hits"]',
      ].join('\n'),
    });
    const secretFile = join(ctx, '..', `tok-${Date.now()}`);
    await writeFile(secretFile, 'SUPERSECRETVALUE');
    try {
      const r = await build(ctx, { tags: ['secret:1'], secrets: { tok: secretFile }, noCache: true });
      expect((await runImage('secret:1')).stdout.replace(/ /g, '')).toBe('16\n1\n');
      const { decompressLayer } = await import('../src/image/decompress.js');
      for (const l of r.image.layers) {
        const chunks: Buffer[] = [];
        for await (const c of decompressLayer(ts.store.blobs.openBlob(l.digest))) chunks.push(Buffer.from(c));
        expect(Buffer.concat(chunks).includes('SUPERSECRETVALUE')).toBe(false);
      }
      expect(JSON.stringify(r.image.config)).not.toContain('SUPERSECRETVALUE');
      // The cache mount outlives the step.
      await build(ctx, { tags: ['secret:2'], secrets: { tok: secretFile }, noCache: true });
      expect((await runImage('secret:2')).stdout.replace(/ /g, '')).toBe('16\n2\n');
    } finally {
      await rm(ctx, { recursive: true, force: true });
      await rm(secretFile, { force: true });
    }
  }, 240_000);

  test('two --no-cache builds of the same inputs give the same image id', async () => {
    const ctx = await project({
      Dockerfile: `FROM ${base}\nCOPY a /a\nRUN echo built > /b && mkdir -p /d/e\n`,
      a: 'a\n',
    });
    try {
      const one = await build(ctx, { noCache: true });
      const two = await build(ctx, { noCache: true });
      expect(two.vmRuns).toBe(1);
      expect(two.imageId).toBe(one.imageId);
    } finally {
      await rm(ctx, { recursive: true, force: true });
    }
  }, 240_000);

  test('consecutive RUN steps share one VM and give the image one VM per step gives', async () => {
    const ctx = await project({
      Dockerfile: [
        `FROM ${base}`,
        'RUN mkdir -p /app/d && echo one > /app/a && echo keep > /app/d/k && ln /app/a /app/a2',
        'ENV STEP=two',
        'RUN echo $STEP >> /app/a && rm /etc/group && rm -r /app/d && mkdir /app/d && echo new > /app/d/n',
        'RUN rm /app/a2 && chmod 700 /app && cat /app/a > /seen',
        'USER nobody',
        'RUN id -u > /tmp/uid',
        'CMD ["cat", "/seen", "/tmp/uid"]',
      ].join('\n'),
    });
    try {
      const before = vmSteps;
      const grouped = await build(ctx, { tags: ['grouped:1'], noCache: true });
      expect(vmSteps - before).toBe(1);
      expect(grouped.vmBoots).toBe(1);
      expect(grouped.vmRuns).toBe(4);
      const alone = await build(ctx, { tags: ['grouped:2'], noCache: true, groupRunSteps: false });
      expect(alone.vmBoots).toBe(4);
      expect(alone.image.layers.map((l) => l.digest)).toEqual(grouped.image.layers.map((l) => l.digest));
      expect(alone.imageId).toBe(grouped.imageId);
      expect((await runImage('grouped:1')).stdout).toBe('one\ntwo\n65534\n');
    } finally {
      await rm(ctx, { recursive: true, force: true });
    }
  }, 300_000);
});
