import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { endShimProcesses, findShimProcesses, processStartTicks } from './shim-processes.js';

// A stand-in for a container's virtiofsd: `tail -f DIR/file` run under the name virtiofsd, so its
// command line names the binary and the container directory as the real one's does.
const linux = process.platform === 'linux';
let root: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hypr-procs-'));
  if (linux) symlinkSync('/usr/bin/tail', join(root, 'virtiofsd'));
});
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

function startIn(dir: string): number {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'file'), '');
  const c = spawn(join(root, 'virtiofsd'), ['-f', join(dir, 'file')], { stdio: 'ignore' });
  children.push(c);
  return c.pid ?? 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.skipIf(!linux)("a container's processes are found by its directory, and only its own", async () => {
  const a = join(root, 'containers', 'aaaaaaaaaaaa');
  const b = join(root, 'containers', 'aaaaaaaaaaaab'); // a name that begins like a's
  const pa = startIn(a);
  const pb = startIn(b);
  await sleep(200);
  expect(findShimProcesses(a)).toEqual([pa]);
  expect(findShimProcesses(b)).toEqual([pb]);
  expect(findShimProcesses(join(root, 'containers', 'other'))).toEqual([]);
  // A recorded pid counts only while its start time matches: a reused pid is never taken.
  const elsewhere = join(root, 'containers', 'other');
  expect(findShimProcesses(elsewhere, [{ pid: pa, startTicks: processStartTicks(pa) }])).toEqual([pa]);
  expect(findShimProcesses(elsewhere, [{ pid: pa, startTicks: (processStartTicks(pa) ?? 0) + 1 }])).toEqual([]);
  expect(findShimProcesses(elsewhere, [{ pid: process.pid, startTicks: processStartTicks(process.pid) }])).toEqual([]);
  const r = await endShimProcesses(a);
  expect(r).toEqual({ killed: [pa], remaining: [] });
  expect(findShimProcesses(a)).toEqual([]);
  expect(findShimProcesses(b)).toEqual([pb]);
  expect(await endShimProcesses(b, { graceMs: 100 })).toEqual({ killed: [pb], remaining: [] });
});
