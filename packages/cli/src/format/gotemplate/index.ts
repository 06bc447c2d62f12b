// Go's text/template as docker's --format uses it: lex → parse → exec.
export { TemplateError } from './error.js';
export { type ExecOptions, execTemplate } from './exec.js';
export { type Node, parseTemplate } from './parse.js';
