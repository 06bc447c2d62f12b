/**
 * hypr-runtime's supervisor process (see supervisor.ts), started detached by `hypr-runtime create`
 * with the engine's stdio: `node supervisor-main.js ROOT/ID`.
 */
import { runSupervisor } from './supervisor.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: supervisor-main.js CONTAINER_DIR (started by hypr-runtime create)\n');
  process.exit(2);
}
runSupervisor(dir).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`hypr-runtime supervisor: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(255);
  },
);
