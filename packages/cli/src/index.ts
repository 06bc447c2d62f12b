// @hypr/cli: the `hypr` command (bin/run.js, commands in src/commands). Exposed for tests and embedding.
export * from './docker-args.js';
export * from './format/template.js';
export * from './format/names.js';
