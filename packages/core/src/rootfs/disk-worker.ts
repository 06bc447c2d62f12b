// A worker thread's entry: makes one rootfs disk (workerData: a RootfsDiskJob) and posts the result.
import { parentPort, workerData } from 'node:worker_threads';
import { HyprError } from '../errors.js';
import { buildRootfsDisk } from './cache.js';
import type { RootfsDiskJob } from './disk-job.js';
import type { DiskWorkerReply } from './disk-worker-client.js';

const post = (reply: DiskWorkerReply) => parentPort?.postMessage(reply);
buildRootfsDisk(workerData as RootfsDiskJob).then(
  (disk) => post({ ok: true, disk }),
  (e: unknown) => {
    const err = HyprError.from(e);
    post({ ok: false, code: err.code, message: err.message, hint: err.hint });
  },
);
