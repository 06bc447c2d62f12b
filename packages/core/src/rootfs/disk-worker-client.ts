import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { HyprError, isErrorCode } from '../errors.js';
import type { RootfsDisk, RootfsDiskJob } from './disk-job.js';

/** What the worker posts back: the disk, or the error as plain data (classes do not cross threads). */
export type DiskWorkerReply =
  | { ok: true; disk: RootfsDisk }
  | { ok: false; code: string; message: string; hint?: string };

const WORKER_URL = new URL('./disk-worker.js', import.meta.url);

/** The worker is compiled JavaScript beside this file: there in dist/, absent when running the .ts sources. */
export function diskWorkerAvailable(): boolean {
  return existsSync(fileURLToPath(WORKER_URL));
}

/** Builds one disk in a worker thread of its own (unpack and mkfs off the caller's event loop). */
export function buildDiskInWorker(job: RootfsDiskJob): Promise<RootfsDisk> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { workerData: job });
    let settled = false;
    worker.once('message', (m: DiskWorkerReply) => {
      settled = true;
      if (m.ok) resolve(m.disk);
      else reject(new HyprError(isErrorCode(m.code) ? m.code : 'INTERNAL', m.message, m.hint));
    });
    worker.once('error', (e) => {
      settled = true;
      reject(HyprError.from(e));
    });
    worker.once('exit', (code) => {
      if (!settled)
        reject(new HyprError('INTERNAL', `the worker making the disk of ${job.image.digest} exited with code ${code}`));
    });
  });
}
