// A worker thread's entry: makes one rootfs or layer disk (workerData: a RootfsDiskJob) and posts the result.
import { parentPort, workerData } from 'node:worker_threads';
import { HyprError } from '../errors.js';
import { buildRootfsDisk } from './cache.js';
import type { RootfsDiskJob } from './disk-job.js';
import type { DiskWorkerReply } from './disk-worker-client.js';
import { buildLayerDisk } from './layer-disks.js';

const post = (reply: DiskWorkerReply) => parentPort?.postMessage(reply);
const job = workerData as RootfsDiskJob;
(job.layer === undefined ? buildRootfsDisk(job) : buildLayerDisk(job)).then(
  (disk) => post({ ok: true, disk }),
  (e: unknown) => {
    const err = HyprError.from(e);
    post({ ok: false, code: err.code, message: err.message, hint: err.hint });
  },
);
