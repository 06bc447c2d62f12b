#!/usr/bin/env node
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    // main reports its own errors; this is the last guard against a stack trace.
    process.stderr.write(`hypr-runtime: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
