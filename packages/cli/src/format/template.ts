/**
 * The subset of Go's text/template that `docker ps/images/inspect --format` users write:
 * `{{.Field}}`, `{{.A.B}}`, `{{json .}}`, `{{json .Config}}`, `{{upper .Names}}`, `{{lower …}}`,
 * `{{len …}}`, `{{index .Labels "k"}}`, `{{.Label "k"}}`, `{{join .Args " "}}`, pipes (`{{.Names | upper}}`),
 * and the `table` prefix with `\t` separated columns.
 */

export class TemplateError extends Error {}

type Value = unknown;

function tokenize(expr: string): string[] {
  const out: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|\||[^\s|]+)/g;
  for (let m = re.exec(expr); m; m = re.exec(expr)) out.push(m[1]);
  return out;
}

function field(data: Value, path: string): Value {
  if (path === '.') return data;
  let v: Value = data;
  for (const key of path.split('.').slice(1)) {
    if (v === null || v === undefined || typeof v !== 'object') return undefined;
    if (!(key in (v as object)))
      throw new TemplateError(`template: can't evaluate field ${key} in type ${Array.isArray(v) ? 'slice' : 'object'}`);
    v = (v as Record<string, Value>)[key];
  }
  return v;
}

function toText(v: Value): string {
  if (v === undefined || v === null) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(toText).join(' ')}]`;
  if (typeof v === 'object') {
    return `map[${Object.entries(v as object)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, x]) => `${k}:${toText(x)}`)
      .join(' ')}]`;
  }
  return String(v);
}

const FUNCS: Record<string, (...args: Value[]) => Value> = {
  json: (v) => JSON.stringify(v ?? null),
  upper: (v) => toText(v).toUpperCase(),
  lower: (v) => toText(v).toLowerCase(),
  title: (v) => toText(v).replace(/\b\w/g, (c) => c.toUpperCase()),
  len: (v) =>
    Array.isArray(v) || typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0,
  index: (v, k) => (v && typeof v === 'object' ? (v as Record<string, Value>)[String(k)] : undefined),
  join: (v, sep) => (Array.isArray(v) ? v.map(toText).join(String(sep)) : toText(v)),
  println: (...v) => `${v.map(toText).join(' ')}\n`,
  print: (...v) => v.map(toText).join(''),
};

function evalArg(tok: string, data: Value): Value {
  if (tok.startsWith('"')) return JSON.parse(tok);
  if (tok.startsWith('.')) return field(data, tok);
  if (/^-?\d+$/.test(tok)) return Number(tok);
  throw new TemplateError(`template: function "${tok}" not defined`);
}

function evalCommand(tokens: string[], data: Value, piped: Value[] = []): Value {
  const [head, ...rest] = tokens;
  if (!head) throw new TemplateError('template: missing value for command');
  if (head.startsWith('.') && rest.length && rest.every((t) => t.startsWith('"'))) {
    // A method with arguments, e.g. {{.Label "com.example"}}
    const obj = field(data, head);
    if (typeof obj === 'function') return (obj as (...a: Value[]) => Value)(...rest.map((t) => JSON.parse(t)));
  }
  if (FUNCS[head]) return FUNCS[head](...rest.map((t) => evalArg(t, data)), ...piped);
  if (/^[a-zA-Z]/.test(head)) throw new TemplateError(`template: function "${head}" not defined`);
  if (rest.length || piped.length) throw new TemplateError(`template: can't give argument to non-function ${head}`);
  return evalArg(head, data);
}

function evalAction(expr: string, data: Value): string {
  const tokens = tokenize(expr);
  const stages: string[][] = [[]];
  for (const t of tokens) {
    if (t === '|') stages.push([]);
    else stages[stages.length - 1].push(t);
  }
  let value = evalCommand(stages[0], data);
  for (const s of stages.slice(1)) value = evalCommand(s, data, [value]);
  return toText(value);
}

/** Renders `tpl` for `data`. */
export function renderTemplate(tpl: string, data: Value): string {
  let out = '';
  let i = 0;
  const text = tpl.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  while (i < text.length) {
    const open = text.indexOf('{{', i);
    if (open < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, open);
    const close = text.indexOf('}}', open);
    if (close < 0) throw new TemplateError('template: unclosed action');
    const expr = text
      .slice(open + 2, close)
      .replace(/^-\s*/, '')
      .replace(/\s*-$/, '')
      .trim();
    out += evalAction(expr, data);
    i = close + 2;
  }
  return out;
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
