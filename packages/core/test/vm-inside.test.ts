/**
 * What the program sees from inside its VM, compared with what Docker gives a container: /dev,
 * the name files, HOSTNAME, the VM's size; and the VM handle's pause and stats.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { bootGuestVm, runVm } from '../src/vmm/guest-vm.js';
import { createWritableDisk } from '../src/vmm/writable-disk.js';
import { assertVmPrerequisites, makeBusyboxRootfs } from './helpers/vm.js';

let rootfs: string;

beforeAll(async () => {
  assertVmPrerequisites();
  rootfs = await makeBusyboxRootfs();
});
afterAll(async () => {
  await rm(rootfs, { recursive: true, force: true });
});

const sh = (script: string) => ['sh', '-c', script];

describe("the container's /dev is docker's", () => {
  test("docker's nodes and links, none of the VM's own devices", async () => {
    const r = await runVm({
      rootfs: { dir: rootfs },
      argv: sh(
        'ls /dev; echo ---; for l in fd stdin stdout stderr core ptmx; do echo "$l -> $(readlink /dev/$l)"; done',
      ),
    });
    const [names, links] = r.stdout.split('---\n');
    expect(names.split('\n').filter(Boolean).sort()).toEqual(
      ['console', 'core', 'fd', 'full', 'mqueue', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout']
        .concat(['tty', 'urandom', 'zero'])
        .sort(),
    );
    expect(links).toBe(
      'fd -> /proc/self/fd\nstdin -> /proc/self/fd/0\nstdout -> /proc/self/fd/1\nstderr -> /proc/self/fd/2\n' +
        'core -> /proc/kcore\nptmx -> pts/ptmx\n',
    );
  });

  test('/dev/shm is 64 MiB by default and as large as asked', async () => {
    const script = 'grep " /dev/shm " /proc/mounts; grep -c " /dev/mqueue mqueue " /proc/mounts';
    const byDefault = await runVm({ rootfs: { dir: rootfs }, argv: sh(script) });
    expect(byDefault.stdout).toMatch(/size=65536k/);
    expect(byDefault.stdout.trim().endsWith('1')).toBe(true);
    const asked = await runVm({ rootfs: { dir: rootfs }, argv: sh(script), shmSizeBytes: 256 * 1024 * 1024 });
    expect(asked.stdout).toMatch(/size=262144k/);
  });

  test('privileged: the VM devices are there', async () => {
    const r = await runVm({ rootfs: { dir: rootfs }, argv: sh('ls /dev | grep -c vport'), privileged: true });
    expect(Number(r.stdout.trim())).toBeGreaterThan(0);
  });

  test('a log file linked to /dev/stdout reaches the output, for root and for a user', async () => {
    const script =
      'ln -s /dev/stdout /tmp/access.log && ln -s /dev/stderr /tmp/error.log && ' +
      'echo GET / > /tmp/access.log && echo oops >> /tmp/error.log && echo direct';
    for (const user of [undefined, 'app']) {
      const r = await runVm({ rootfs: { dir: rootfs }, argv: sh(script), user });
      expect(r).toMatchObject({ exitCode: 0, stdout: 'GET /\ndirect\n', stderr: 'oops\n' });
    }
  });

  test('a program reads its input from /dev/stdin', async () => {
    const vm = await bootGuestVm({ rootfs: { dir: rootfs }, argv: ['cat', '/dev/stdin'], stdin: true });
    vm.writeStdin('through /dev/stdin\n');
    vm.closeStdin();
    expect(await vm.wait()).toMatchObject({ exitCode: 0, stdout: 'through /dev/stdin\n' });
  });

  test('with a terminal, /dev/console and /dev/stdout are the terminal', async () => {
    const r = await runVm({
      rootfs: { dir: rootfs },
      argv: sh('[ -t 1 ] && echo tty; echo to-console > /dev/console; echo to-stdout > /dev/stdout'),
      tty: { rows: 24, cols: 80 },
    });
    expect(r.stdout.replace(/\r/g, '')).toBe('tty\nto-console\nto-stdout\n');
  });
});

describe('names, as docker writes them', () => {
  test('/etc/hostname, HOSTNAME, and one /etc/hosts line for the container', async () => {
    const r = await runVm({
      rootfs: { dir: rootfs },
      argv: sh('cat /etc/hostname; echo "$HOSTNAME"; hostname; echo ---; cat /etc/hosts'),
      hostname: 'web1',
      hosts: [
        { name: 'web1', address: '127.0.1.1' },
        { name: 'myweb', address: '127.0.1.1' },
        { name: 'db', address: '10.0.0.9' },
      ],
    });
    const [names, hosts] = r.stdout.split('---\n');
    expect(names).toBe('web1\nweb1\nweb1\n');
    expect(hosts.split('\n').filter((l) => l.includes('web1'))).toEqual(['127.0.1.1\tweb1 myweb']);
    expect(hosts).toContain('10.0.0.9\tdb\n');
    expect(hosts.startsWith('127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n')).toBe(true);
  });

  test('a HOSTNAME the user sets wins', async () => {
    const r = await runVm({
      rootfs: { dir: rootfs },
      argv: sh('echo "$HOSTNAME"'),
      hostname: 'h',
      env: ['HOSTNAME=mine'],
    });
    expect(r.stdout).toBe('mine\n');
  });
});

describe("the VM's size", () => {
  test('by default a 300 MiB allocation fits and every host core is a vCPU', async () => {
    const r = await runVm({
      rootfs: { dir: rootfs },
      // /tmp is on the tmpfs upper layer: its pages are guest memory.
      argv: sh('dd if=/dev/zero of=/tmp/big bs=1M count=300 2>/dev/null && ls -l /tmp/big | awk "{print \\$5}"; nproc'),
    });
    expect(r.stdout).toBe(`${300 * 1024 * 1024}\n${availableParallelism()}\n`);
  });

  test('--memory still sets it', async () => {
    const r = await runVm({ rootfs: { dir: rootfs }, argv: sh('grep MemTotal /proc/meminfo'), memoryMiB: 256 });
    expect(Number(/(\d+)/.exec(r.stdout)?.[1]) / 1024).toBeLessThan(256);
  });
});

test("top lists the container's processes as ps -ef does, without kestrel", async () => {
  let up!: () => void;
  const seen = new Promise<void>((r) => {
    up = r;
  });
  const vm = await bootGuestVm({
    rootfs: { dir: rootfs },
    argv: sh('echo up; exec sleep 1000'),
    user: 'app',
    exec: true,
    onStdout: (b) => b.toString().includes('up') && up(),
  });
  try {
    await seen;
    // "up" is printed before the shell execs sleep: ask until the exec has happened.
    const table = await vi.waitFor(
      async () => {
        const t = await vm.top();
        if (!t.processes.some((p) => p[7] === 'sleep 1000')) throw new Error('sleep 1000 not listed yet');
        return t;
      },
      { timeout: 20_000, interval: 100 },
    );
    expect(table.titles).toEqual(['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    const sleep = table.processes.find((p) => p[7] === 'sleep 1000');
    expect(sleep?.[0]).toBe('app');
    expect(sleep?.[2]).toBe('1');
    expect(table.processes.some((p) => p[1] === '1')).toBe(false);
  } finally {
    await vm.destroy();
  }
});

test('cp: a tar out of the running container and one into it', async () => {
  let up!: () => void;
  const seen = new Promise<void>((r) => {
    up = r;
  });
  const vm = await bootGuestVm({
    rootfs: { dir: rootfs },
    argv: sh(
      'mkdir -p /srv/app && echo hello > /srv/app/a.txt && ln -s a.txt /srv/app/link && echo up; exec sleep 1000',
    ),
    exec: true,
    onStdout: (b) => b.toString().includes('up') && up(),
  });
  try {
    await seen;
    const chunks: Buffer[] = [];
    for await (const c of vm.copyFrom('/srv/app')) chunks.push(c as Buffer);
    const listing = execFileSync('tar', ['-tvf', '-'], { input: Buffer.concat(chunks) }).toString();
    expect(listing).toMatch(/app\/a\.txt/);
    expect(listing).toMatch(/app\/link -> a\.txt/);
    await expect(
      (async () => {
        for await (const _ of vm.copyFrom('/no/such/path'));
      })(),
    ).rejects.toThrow(/no\/such\/path/);

    const src = await mkdtemp(join(tmpdir(), 'hypr-cp-'));
    await mkdir(join(src, 'conf/deep'), { recursive: true });
    await writeFile(join(src, 'conf/deep/x.conf'), 'key=value\n');
    const tar = execFileSync('tar', ['-cf', '-', '-C', src, 'conf']);
    await vm.copyTo('/srv', tar);
    const out: Buffer[] = [];
    const s = vm.exec({ argv: ['cat', '/srv/conf/deep/x.conf'], onStdout: (b) => out.push(b) });
    expect(await s.wait()).toMatchObject({ exitCode: 0 });
    expect(Buffer.concat(out).toString()).toBe('key=value\n');
    await rm(src, { recursive: true, force: true });
  } finally {
    await vm.destroy();
  }
});

describe('pause, resume and statistics', () => {
  test('a paused VM resumes, reports block I/O and memory, and stops from pause', async () => {
    const disk = `${rootfs}-rw.ext4`;
    await createWritableDisk(disk, 64);
    try {
      let up!: () => void;
      const seen = new Promise<void>((r) => {
        up = r;
      });
      const vm = await bootGuestVm({
        rootfs: { dir: rootfs },
        writableDisk: disk,
        argv: sh('echo data > /file; sync; echo up; exec sleep 1000'),
        onStdout: (b) => b.toString().includes('up') && up(),
      });
      await seen;
      await vm.pause();
      expect(vm.paused).toBe(true);
      await vm.resume();
      expect(vm.paused).toBe(false);
      const stats = await vm.stats();
      expect(stats.blockIo.length).toBeGreaterThan(0);
      expect(stats.blockIo[0]).toMatchObject({ device: 'disk0' });
      expect(stats.memory?.limitBytes).toBe(2048 * 1024 * 1024);
      expect(stats.memory?.usedBytes).toBeGreaterThan(0);
      await vm.pause();
      // A frozen Kestrel cannot take the stop request: stop thaws the VM first.
      expect((await vm.stop('SIGTERM', 5000)).exitCode).toBe(143);
    } finally {
      await rm(disk, { force: true });
    }
  });
});
