// Run as a separate process by store.test.ts so it can be killed with SIGKILL mid-pull.
import { join } from 'node:path';
import { ImageStore } from '../../src/image/image-store.js';
import { pullImage } from '../../src/image/pull.js';
import { openState } from '../../src/state/index.js';

const [dir, ref] = process.argv.slice(2);
const state = openState(join(dir, 'hypr.db'));
const store = await ImageStore.open(join(dir, 'images'), state);
await pullImage(store, ref, { concurrency: 1 });
state.close();
