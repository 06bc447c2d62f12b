#!/usr/bin/env node
import { main } from '../dist/main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    // main reports its own errors; this is the last guard against a stack trace on the terminal.
    process.stderr.write(`hyprd: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
