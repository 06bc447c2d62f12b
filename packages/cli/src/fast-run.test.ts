import { create, fromJson } from '@bufbuild/protobuf';
import { ContainerSpecSchema } from '@hypr/api';
import { Parser } from '@oclif/core';
import { describe, expect, test } from 'vitest';
import Run from './commands/run.js';
import { containerSpecInit } from './container-spec.js';
import { type FlagShapes, normalizeBooleans, splitAtFirstArg } from './docker-args.js';
import { RUN_FLAG_SHAPES, parseFastRunArgs, toProtoJson } from './fast-run.js';

/** What commands/run.ts gets from oclif for ARGV (HyprCommand.parseDocker), or the error oclif raises. */
async function oclifParse(argv: string[]): Promise<{ flags: Record<string, unknown>; rest: string[] } | Error> {
  const shapes = Run.flags as unknown as FlagShapes;
  const { head, rest } = splitAtFirstArg(argv, shapes);
  try {
    const { flags } = await Parser.parse(normalizeBooleans(head, shapes), { flags: Run.flags, strict: true, args: {} });
    return { flags: flags as Record<string, unknown>, rest };
  } catch (e) {
    return e as Error;
  }
}

test('the fast path knows every flag of `hypr run` as oclif defines it', async () => {
  const oclif = Run.flags as Record<string, { type: string; char?: string; multiple?: boolean; allowNo?: boolean }>;
  expect(Object.keys(RUN_FLAG_SHAPES).sort()).toEqual(Object.keys(oclif).sort());
  for (const [name, f] of Object.entries(oclif)) {
    const fast = RUN_FLAG_SHAPES[name];
    const flag = f as typeof f & {
      default?: unknown;
      options?: string[];
      parse: (s: string, c: unknown, o: unknown) => Promise<unknown>;
    };
    const integer =
      flag.type === 'option' &&
      (await flag.parse('x', {}, {}).then(
        () => false,
        () => true,
      ));
    expect({ name, ...fast }).toEqual({
      name,
      type: flag.type,
      ...(flag.char ? { char: flag.char } : {}),
      ...(flag.multiple ? { multiple: true } : {}),
      ...(integer ? { integer: true } : {}),
      ...(flag.allowNo ? { allowNo: true } : {}),
      ...(flag.options ? { options: flag.options } : {}),
      ...(flag.default !== undefined ? { default: flag.default } : {}),
    });
  }
});

describe('what the fast path reads is what oclif reads', () => {
  const served = [
    ['busybox'],
    ['--rm', 'busybox', 'true'],
    ['-d', '--name', 'web', '-p', '8080:80', '-p', '443', 'nginx:1'],
    ['--name=web', '-e', 'A=1', '--env', 'B=2', '--env=C=3', 'img', 'sh', '-c', 'echo $A'],
    ['-it', '--rm', 'img', 'bash'],
    ['-dit', 'img'],
    ['-itd', '-w', '/tmp', 'img', 'ls', '-l', '--rm'],
    ['-v', '/a:/b', '--volume', 'vol:/c:ro', '--tmpfs', '/run', '--mount', 'type=volume,src=v,dst=/d', 'img'],
    ['-m', '512m', '--cpus', '1.5', '--restart', 'on-failure:3', 'img'],
    ['--restart=always', '-u', '1000:1000', '-h', 'box', '--entrypoint', 'sh', 'img', '-c', 'id'],
    ['--stop-timeout', '3', '--stop-signal', 'SIGUSR1', 'img'],
    ['--health-cmd', 'true', '--health-interval', '1s', '--health-retries', '2', 'img'],
    ['--no-healthcheck', '--init', '--read-only', '--privileged', 'img'],
    ['--network', 'none', '--network-alias', 'a', '--ip', '10.0.0.9', '-P', 'img'],
    ['--sig-proxy=false', '--rm=true', '--init=false', 'img'],
    ['--no-sig-proxy', 'img'],
    ['--pull', 'never', 'img'],
    ['-l', 'a=b', '--label', 'c=d', 'img'],
    ['-a', 'stdout', '--detach-keys', 'ctrl-x', 'img'],
    ['--', 'img', '--rm'],
  ];
  for (const argv of served)
    test(argv.join(' '), async () => {
      const fast = parseFastRunArgs(argv);
      const oclif = await oclifParse(argv);
      expect(fast, 'the fast path serves it').toBeDefined();
      if (oclif instanceof Error) throw oclif;
      if (!fast) return;
      expect(containerSpecInit(fast.flags, fast.rest)).toEqual(containerSpecInit(oclif.flags, oclif.rest));
      for (const k of ['detach', 'sig-proxy', 'platform']) expect(fast.flags[k], k).toEqual(oclif.flags[k]);
    });

  // Forms it is not sure to read as oclif does, or that need oclif (a pull, an error to print): declined.
  const declined = [
    ['--platform', 'linux/arm64', 'img'],
    ['--pull', 'always', 'img'],
    ['--rm', '--rm', 'img'],
    ['--name', 'a', '--name', 'b', 'img'],
    ['-eA=1', 'img'],
    ['-e=A', 'img'],
    ['-e'],
    ['--name'],
    ['--nope', 'img'],
    ['-Z', 'img'],
    ['--pull', 'sometimes', 'img'],
    ['--stop-timeout', 'soon', 'img'],
    ['--rm=maybe', 'img'],
    ['--name', '--rm', 'img'],
    ['--help'],
    ['-di5', 'img'],
  ];
  for (const argv of declined)
    test(`declines ${argv.join(' ')}`, () => {
      expect(parseFastRunArgs(argv)).toBeUndefined();
    });
});

test('the spec goes out as the JSON hyprd reads back into the same message', () => {
  const { spec } = containerSpecInit(
    {
      memory: '1g',
      env: ['A=1'],
      label: ['k=v'],
      'health-cmd': 'curl -f localhost',
      'health-interval': '2s',
      'stop-timeout': 5,
      restart: 'on-failure:2',
      cpus: '0.5',
      rm: false,
      publish: ['80'],
    },
    ['img', 'sh', '-c', 'echo hi'],
  );
  expect(fromJson(ContainerSpecSchema, toProtoJson(spec) as never)).toEqual(create(ContainerSpecSchema, spec));
});
