/**
 * The helper `hypr-runtime exec --detach` leaves behind (see exec.ts): runs one exec session with
 * the engine's stdio and exits with the program's code. `node exec-main.js CONTAINER_DIR PROCESS_JSON`.
 */
import type { ProcessSpec } from './bundle.js';
import { runExecSession } from './exec.js';
import { parentPipe } from './stdio.js';

const [dir, json] = process.argv.slice(2);
if (!dir || !json) {
  process.stderr.write('usage: exec-main.js CONTAINER_DIR PROCESS_JSON (started by hypr-runtime exec --detach)\n');
  process.exit(2);
}
const parent = parentPipe();
runExecSession(dir, JSON.parse(json) as ProcessSpec, (line) => parent.tell(line))
  .catch((e: unknown) => {
    parent.tell(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 255;
  })
  .then(async (code) => {
    await parent.gone;
    process.exit(code);
  });
