import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ConnectError } from '@connectrpc/connect';
import { HyprError, SourceError } from '@hypr/core/errors';
import { describe, expect, test } from 'vitest';
import { CliError, systemErrorText, toCliError } from './errors.js';
import { checkInputFile, checkOutputFile } from './file-args.js';
import { parseCpus, toContainerSpec } from './run-flags.js';

const connectFailure = (code: string) => {
  const cause = Object.assign(new Error(`connect ${code} /run/hypr/hyprd.sock`), { code, syscall: 'connect' });
  return new ConnectError(cause.message, Code.Unavailable, undefined, undefined, cause);
};

describe("every failure is a HyprError with a code, a message and docker's exit status", () => {
  test('no daemon: "Is hyprd running?", 1 (125 for run/create/start)', () => {
    const e = toCliError(connectFailure('ENOENT'), '/run/hypr/hyprd.sock', 1);
    expect(e).toBeInstanceOf(HyprError);
    expect(e).toMatchObject({ code: 'DAEMON_NOT_RUNNING', exitCode: 1 });
    expect(e.message).toBe('Cannot connect to the HYPR daemon at unix:///run/hypr/hyprd.sock. Is hyprd running?');
    expect(toCliError(connectFailure('ECONNREFUSED'), '/x.sock', 125).exitCode).toBe(125);
  });

  test('permission denied on the socket says so and names the group that grants it', () => {
    const e = toCliError(connectFailure('EACCES'), '/run/hypr/hyprd.sock', 1);
    expect(e.code).toBe('DAEMON_PERMISSION_DENIED');
    expect(e.message).toContain('permission denied while trying to connect to the HYPR daemon socket');
    expect(e.hint).toMatch(/group hypr|usermod -aG/);
  });

  test("the daemon's own errors pass through, with its code and hint, even when they mention ENOENT", () => {
    const answered = new ConnectError('open /srv/x.tar: ENOENT', Code.NotFound);
    answered.metadata.set('hypr-error-code', 'IMAGE_NOT_FOUND');
    answered.metadata.set('hypr-error-hint', encodeURIComponent('pull it'));
    const e = toCliError(answered, '/s.sock', 1);
    expect(e).toMatchObject({ code: 'IMAGE_NOT_FOUND', hint: 'pull it', exitCode: 1 });
    expect(e.message).toBe('Error response from daemon: open /srv/x.tar: ENOENT');
  });

  test('located errors keep their location; Node errors are worded as docker words them', () => {
    const located = toCliError(new SourceError('DOCKERFILE_SYNTAX', 'bad', 'Dockerfile', 3, 1), '', 1);
    expect(located.message).toBe('Dockerfile:3:1: bad');
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), {
      code: 'ENOENT',
      syscall: 'open',
      path: '/x',
    });
    expect(systemErrorText(enoent)).toBe('open /x: no such file or directory');
    expect(toCliError(enoent, '', 1).message).toBe('open /x: no such file or directory');
  });
});

describe('files named by flags are checked before the daemon is asked', () => {
  test('load -i of a missing file or a directory names the path', () => {
    expect(() => checkInputFile('/missing.tar', '-i, --input')).toThrow('open /missing.tar: no such file or directory');
    expect(() => checkInputFile(tmpdir(), '-i, --input')).toThrow(`read ${tmpdir()}: is a directory`);
  });

  test('save -o into a missing directory, or onto a directory, names the path', () => {
    expect(() => checkOutputFile('/no/dir/x.tar', '-o, --output')).toThrow(
      'invalid output path: directory "/no/dir" does not exist',
    );
    expect(() => checkOutputFile(tmpdir(), '-o, --output')).toThrow('is a directory');
    const dir = mkdtempSync(join(tmpdir(), 'hypr-out-'));
    try {
      expect(() => checkOutputFile(join(dir, 'x.tar'), '-o, --output')).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('run flags out of range are errors naming the flag (125)', () => {
  test.each(['Infinity', 'NaN', '-1', '1e3', 'two', ''])('--cpus %j', (v) => {
    expect(() => parseCpus(v, 2)).toThrow(/for "--cpus" flag/);
  });
  test('--cpus beyond the host, and within it', () => {
    expect(() => parseCpus('64', 2)).toThrow('range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available');
    expect(parseCpus('1.5', 2)).toBe(1.5);
    expect(parseCpus(undefined, 2)).toBe(0);
  });
  test.each(['9223372036854775808', '100000000000p', '8589934592g'])('-m %s does not fit int64', (m) => {
    const e = (() => {
      try {
        toContainerSpec({ memory: m }, ['img']);
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(CliError);
    expect(e).toMatchObject({ code: 'CLI_FLAG_INVALID', exitCode: 125 });
    expect((e as Error).message).toContain(`invalid argument "${m}" for "-m, --memory" flag`);
  });
  test('--env-file of a missing file is named, exit 125', () => {
    expect(() => toContainerSpec({ 'env-file': ['/missing'] }, ['img'])).toThrow(
      'open /missing: no such file or directory',
    );
  });
});
