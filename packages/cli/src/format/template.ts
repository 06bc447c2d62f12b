/**
 * `--format` templates as docker reads them: Go's text/template (./gotemplate: range, if/else if/else,
 * with, variables, pipelines and the builtins) with docker's functions (json, join, split, upper, lower,
 * title, pad, truncate), `\t` and `\n` written as escapes, and the `table` directive.
 */
import { type ExecOptions, type Node, TemplateError, execTemplate, parseTemplate } from './gotemplate/index.js';
import { renderTabbed } from './table.js';

export { TemplateError };
export type { ExecOptions };

const parsed = new Map<string, Node[]>();

/** docker writes `\t` and `\n` in formats as escapes. */
function unescapeFormat(tpl: string): string {
  return tpl.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

/** Parses a template once per text; throws TemplateError (TEMPLATE_SYNTAX) even when nothing is rendered. */
export function checkTemplate(tpl: string): Node[] {
  const text = unescapeFormat(tpl);
  let nodes = parsed.get(text);
  if (!nodes) {
    nodes = parseTemplate(text);
    if (parsed.size > 100) parsed.clear();
    parsed.set(text, nodes);
  }
  return nodes;
}

/** Renders `tpl` for `data`. Throws TemplateError with the line and column. */
export function renderTemplate(tpl: string, data: unknown, options: ExecOptions = {}): string {
  return execTemplate(unescapeFormat(tpl), checkTemplate(tpl), data, options);
}

/** Whether the format is a `table …` format, and the template without the prefix. */
export function parseTableFormat(format: string): { table: boolean; template: string } {
  const m = /^table(\s+|$)/.exec(format);
  return m ? { table: true, template: format.slice(m[0].length) } : { table: false, template: format };
}

/** The header row of a table format: each `{{.Field}}` replaced by its column title. */
export function renderHeader(template: string, titles: Record<string, string>): string {
  return template
    .replace(/\\t/g, '\t')
    .replace(/\{\{\s*(?:json\s+)?\.(\w+)[^}]*\}\}/g, (_, name: string) => titles[name] ?? name.toUpperCase());
}

/**
 * The output of `--format` for list rows (ps, images …): one rendered line per row, and for a
 * `table …` format a header of column titles first, the columns aligned as docker's tabwriter does.
 */
export function formatRows(format: string, rows: readonly unknown[], titles: Record<string, string>): string {
  const { table, template } = parseTableFormat(format);
  checkTemplate(template);
  const lines = rows.map((r) => renderTemplate(template, r));
  return table ? renderTabbed([renderHeader(template, titles), ...lines]) : lines.join('\n');
}
