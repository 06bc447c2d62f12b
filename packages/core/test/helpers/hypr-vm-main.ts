// Runs the hypr-vm CLI from source (tests spawn it so its stdout and exit code are real).
import { main } from '../../src/cli/hypr-vm.js';

main(process.argv.slice(2)).then((code) => process.exit(code));
