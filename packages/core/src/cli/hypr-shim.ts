/**
 * hypr-shim DIR: owns one container VM (see src/vmm/shim-protocol.ts for the contract and
 * src/vmm/shim-server.ts for what it does). Started detached by hyprd; survives it.
 */
import { runShim } from '../vmm/shim-server.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: hypr-shim DIR (started by hyprd)\n');
  process.exit(2);
}
runShim(dir).then((code) => setTimeout(() => process.exit(code), 50));
