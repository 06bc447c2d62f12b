import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runBuildStep } from '../src/builder/step-vm.js';
import { assertVmPrerequisites, makeBusyboxRootfs } from './helpers/vm.js';

let rootfs: string;

beforeAll(async () => {
  assertVmPrerequisites();
  rootfs = await makeBusyboxRootfs();
  await mkdir(join(rootfs, 'etc/conf.d'), { recursive: true });
  await writeFile(join(rootfs, 'etc/conf.d/a.conf'), 'a\n');
  await writeFile(join(rootfs, 'etc/motd'), 'hello\n');
});
afterAll(async () => {
  await rm(rootfs, { recursive: true, force: true });
});

const run = (script: string, extra: Partial<{ env: string[]; workdir: string; user: string }> = {}) => ({
  kind: 'run' as const,
  argv: ['/bin/sh', '-c', script],
  env: extra.env ?? ['PATH=/bin'],
  workdir: extra.workdir,
  user: extra.user,
});

describe('a build step in kestrel build mode', () => {
  test('the layer holds what RUN changed, with OCI whiteouts, links and long names', async () => {
    const longDir = `deep/${'d'.repeat(60)}/${'e'.repeat(60)}`;
    const step = await runBuildStep({
      rootfsDir: rootfs,
      commands: [
        run('mkdir -p /app && echo built > /app/out.txt && chmod 640 /app/out.txt'),
        run(
          `rm /etc/motd && rm -rf /etc/conf.d && mkdir /etc/conf.d && echo b > /etc/conf.d/b.conf && ln -s out.txt /app/link && ln /app/out.txt /app/hard && mkdir -p /${longDir} && echo x > /${longDir}/file.txt`,
        ),
      ],
    });
    try {
      expect(step.failed).toBeUndefined();
      expect(step.results).toEqual([
        { index: 0, exitCode: 0 },
        { index: 1, exitCode: 0 },
      ]);
      const listing = execFileSync('tar', ['-tvf', step.layerTarPath!]).toString();
      const names = execFileSync('tar', ['-tf', step.layerTarPath!]).toString().trim().split('\n');
      expect(names).toContain('app/out.txt');
      expect(names).toContain('etc/.wh.motd');
      expect(names).toContain('etc/conf.d/.wh..wh..opq');
      expect(names).toContain('etc/conf.d/b.conf');
      expect(names).toContain(`${longDir}/file.txt`);
      expect(names.some((n) => n.startsWith('proc') || n.startsWith('dev/') || n.startsWith('sys'))).toBe(false);
      expect(listing).toMatch(/-rw-r----- .* app\/(out\.txt|hard)\n/);
      expect(listing).toMatch(/app\/link -> out\.txt/);
      expect(listing).toMatch(/app\/(hard link to app\/out\.txt|out\.txt link to app\/hard)/);
      // The guest clock follows the host's: no 1970 timestamps.
      expect(listing).not.toMatch(/1970-01-01/);
      expect(execFileSync('tar', ['-xOf', step.layerTarPath!, 'app/out.txt', 'app/hard']).toString()).toBe('built\n');
      // The stage's tree on the host is untouched.
      expect(execFileSync('cat', [join(rootfs, 'etc/motd')]).toString()).toBe('hello\n');
    } finally {
      await step.cleanup();
    }
  });

  test('env, working directory and user of RUN are applied', async () => {
    const step = await runBuildStep({
      rootfsDir: rootfs,
      commands: [
        run('echo "$FOO $(pwd) $(id -u)" > /tmp/who', {
          env: ['PATH=/bin', 'FOO=bar'],
          workdir: '/work',
          user: '1000',
        }),
      ],
    });
    try {
      expect(execFileSync('tar', ['-xOf', step.layerTarPath!, 'tmp/who']).toString()).toBe('bar /work 1000\n');
    } finally {
      await step.cleanup();
    }
  });

  test('a failing RUN stops the step with its exit code and output, and no layer', async () => {
    let streamed = '';
    const step = await runBuildStep({
      rootfsDir: rootfs,
      commands: [run('echo first'), run('echo "compiling…"; echo "boom" >&2; exit 3'), run('echo never')],
      onStdout: (b) => {
        streamed += b.toString();
      },
    });
    try {
      expect(step.failed).toMatchObject({ index: 1, exitCode: 3 });
      expect(step.failed?.outputTail).toContain('boom');
      expect(step.results.map((r) => r.exitCode)).toEqual([0, 3]);
      expect(step.layerTarPath).toBeUndefined();
      expect(streamed).toBe('first\ncompiling…\n');
    } finally {
      await step.cleanup();
    }
  });

  test('a missing program fails with 127 and says so; background processes do not hang a step', async () => {
    const missing = await runBuildStep({ rootfsDir: rootfs, commands: [{ kind: 'run', argv: ['nope'], env: [] }] });
    expect(missing.failed).toMatchObject({ index: 0, exitCode: 127 });
    expect(missing.failed?.outputTail).toContain('executable file not found');
    await missing.cleanup();
    const bg = await runBuildStep({ rootfsDir: rootfs, commands: [run('sleep 1000 & echo started')] });
    expect(bg.failed).toBeUndefined();
    await bg.cleanup();
  });

  test('with layerPerCommand each command yields its own layer, stacked on those before it', async () => {
    const done: number[] = [];
    const step = await runBuildStep({
      rootfsDir: rootfs,
      layerPerCommand: true,
      onCommandDone: (i) => done.push(i),
      commands: [
        run('mkdir -p /app/d && echo one > /app/a && echo keep > /app/d/k && ln /app/a /app/a2'),
        run('echo two >> /app/a && rm /etc/motd && rm -r /app/d && mkdir /app/d && echo new > /app/d/n'),
        run('rm /app/a2 && sleep 1 & wait; cat /app/a > /seen'),
      ],
    });
    try {
      expect(step.failed).toBeUndefined();
      expect(step.layerTarPaths).toHaveLength(3);
      const names = step.layerTarPaths!.map((p) =>
        execFileSync('tar', ['-tf', p]).toString().trim().split('\n').sort(),
      );
      expect(names[0]).toEqual(['app/', 'app/a', 'app/a2', 'app/d/', 'app/d/k']);
      expect(names[1]).toEqual(['app/', 'app/a', 'app/d/', 'app/d/.wh..wh..opq', 'app/d/n', 'etc/', 'etc/.wh.motd']);
      expect(names[2]).toEqual(['app/', 'app/.wh.a2', 'seen']);
      expect(execFileSync('tar', ['-xOf', step.layerTarPaths![1], 'app/a']).toString()).toBe('one\ntwo\n');
      expect(execFileSync('tar', ['-xOf', step.layerTarPaths![2], 'seen']).toString()).toBe('one\ntwo\n');
      expect(done).toEqual([0, 1, 2]);
    } finally {
      await step.cleanup();
    }
  });

  test('with layerPerCommand a failing command keeps the layers of the commands before it', async () => {
    const step = await runBuildStep({
      rootfsDir: rootfs,
      layerPerCommand: true,
      commands: [run('echo a > /a'), run('exit 4'), run('echo never > /c')],
    });
    try {
      expect(step.failed).toMatchObject({ index: 1, exitCode: 4 });
      expect(step.layerTarPaths).toHaveLength(1);
      expect(execFileSync('tar', ['-tf', step.layerTarPaths![0]]).toString()).toBe('a\n');
    } finally {
      await step.cleanup();
    }
  });
});
