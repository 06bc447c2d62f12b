// Go text/template, step 2: segments to a tree. Control actions (if / else if / else, range, with,
// break, continue, end), pipelines with variable declarations, commands and their operands. As Go
// does at parse time, unknown functions and undefined variables are errors here, with a position.
import { TemplateError } from './error.js';
import { isFunction } from './funcs.js';
import { type Segment, type Token, segment } from './lex.js';

export interface Pipe {
  /** Variables declared (`:=`) or assigned (`=`) by the pipeline. */
  decl: string[];
  assign: boolean;
  cmds: Command[];
  pos: number;
}

export interface Command {
  args: Operand[];
  pos: number;
}

export type Operand =
  | { type: 'field'; names: string[]; pos: number } // .A.B (on dot)
  | { type: 'variable'; name: string; names: string[]; pos: number } // $x.A.B
  | { type: 'pipe'; pipe: Pipe; names: string[]; pos: number } // (pipeline).A
  | { type: 'dot'; pos: number }
  | { type: 'function'; name: string; pos: number }
  | { type: 'literal'; value: unknown; pos: number };

/** if, with or range: the pipeline, its list, and the list of {{else}}. */
export interface Block {
  type: 'if' | 'with' | 'range';
  pipe: Pipe;
  list: Node[];
  elseList?: Node[];
  pos: number;
}

export type Node =
  | { type: 'text'; text: string }
  | { type: 'action'; pipe: Pipe; pos: number }
  | Block
  | { type: 'break' | 'continue'; pos: number };

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'block']);

type Action = Extract<Segment, { kind: 'action' }>;

class Parser {
  private at = 0;
  private vars: string[] = ['$'];
  private loops = 0;

  constructor(
    private readonly src: string,
    private readonly segments: Segment[],
  ) {}

  fail(message: string, pos: number): never {
    throw new TemplateError(message, this.src, pos);
  }

  /** Nodes up to a control keyword (`end`, `else`) or the end of the template. */
  list(): { nodes: Node[]; stop?: Action } {
    const nodes: Node[] = [];
    while (this.at < this.segments.length) {
      const seg = this.segments[this.at++];
      if (seg.kind === 'text') {
        nodes.push({ type: 'text', text: seg.text });
        continue;
      }
      const head = seg.tokens[0];
      const word = head?.kind === 'ident' && KEYWORDS.has(head.text) ? head.text : undefined;
      if (word === 'end' || word === 'else') return { nodes, stop: seg };
      if (word) nodes.push(this.control(word, seg));
      else nodes.push({ type: 'action', pipe: this.pipeline(seg.tokens, seg.pos, 'command'), pos: seg.pos });
    }
    return { nodes };
  }

  private control(word: string, seg: Action): Node {
    const [head, ...rest] = seg.tokens;
    if (word === 'break' || word === 'continue') {
      if (!this.loops) this.fail(`{{${word}}} outside {{range}}`, head.pos);
      if (rest.length) this.fail(`unexpected ${rest[0].text} in {{${word}}}`, rest[0].pos);
      return { type: word, pos: head.pos };
    }
    if (word === 'if' || word === 'with' || word === 'range') return this.block(word, rest, head.pos);
    return this.fail(`{{${word}}} is not supported in --format templates`, head.pos);
  }

  /** if/with/range: the pipeline, the list, an optional else (or `else if`/`else with`), through `end`. */
  private block(word: 'if' | 'with' | 'range', tokens: Token[], pos: number): Node {
    const scope = this.vars.length;
    const pipe = this.pipeline(tokens, pos, word);
    if (word === 'range') this.loops++;
    const body = this.list();
    if (word === 'range') this.loops--;
    let elseList: Node[] | undefined;
    let stop = body.stop;
    if (stop?.tokens[0].text === 'else') {
      const chained = stop.tokens[1];
      if (chained && word !== 'range' && chained.kind === 'ident' && chained.text === word) {
        // `{{else if …}}` / `{{else with …}}`: a nested block that ends at the same {{end}}
        elseList = [this.block(word, stop.tokens.slice(2), chained.pos)];
        this.vars.length = scope;
        return { type: word, pipe, list: body.nodes, elseList, pos };
      }
      if (chained) this.fail(`unexpected ${chained.text} in else`, chained.pos);
      const other = this.list();
      elseList = other.nodes;
      stop = other.stop;
    }
    if (!stop || stop.tokens[0].text !== 'end') this.fail(`unexpected EOF: {{${word}}} has no {{end}}`, pos);
    if (stop.tokens.length > 1) this.fail(`unexpected ${stop.tokens[1].text} in end`, stop.tokens[1].pos);
    this.vars.length = scope;
    return { type: word, pipe, list: body.nodes, elseList, pos };
  }

  /** [decl] command (| command)* over the whole token list. */
  pipeline(tokens: Token[], pos: number, context: string): Pipe {
    const c = new Cursor(tokens);
    const pipe = this.pipelineAt(c, pos, context);
    if (!c.done()) this.fail(`unexpected ${quote(c.peek())} in ${context}`, c.peek().pos);
    return pipe;
  }

  private pipelineAt(c: Cursor, pos: number, context: string): Pipe {
    const decl: string[] = [];
    let assign = false;
    const t0 = c.peek(0);
    const t1 = c.peek(1);
    if (t0?.kind === 'variable' && (t1?.kind === 'declare' || t1?.kind === 'assign')) {
      decl.push(t0.text);
      assign = t1.kind === 'assign';
      c.skip(2);
    } else if (context === 'range' && t0?.kind === 'variable' && t1?.kind === 'comma') {
      const t2 = c.peek(2);
      const t3 = c.peek(3);
      if (t2?.kind !== 'variable' || (t3?.kind !== 'declare' && t3?.kind !== 'assign'))
        this.fail('range can only initialize variables as $i, $e := pipeline', t1.pos);
      decl.push(t0.text, t2.text);
      assign = t3.kind === 'assign';
      c.skip(4);
    }
    if (assign) for (const d of decl) if (!this.vars.includes(d)) this.fail(`undefined variable "${d}"`, pos);
    const cmds: Command[] = [];
    for (;;) {
      const start = c.peek();
      if (!start || start.kind === 'rparen' || start.kind === 'pipe')
        this.fail(`missing value for ${context}`, start?.pos ?? pos);
      cmds.push(this.command(c));
      if (c.peek()?.kind !== 'pipe') break;
      c.skip(1);
    }
    if (!assign) this.vars.push(...decl);
    return { decl, assign, cmds, pos };
  }

  private command(c: Cursor): Command {
    const args: Operand[] = [];
    const pos = c.peek().pos;
    while (!c.done()) {
      const t = c.peek();
      if (t.kind === 'pipe' || t.kind === 'rparen') break;
      if (args.length && !t.spaced) this.fail(`missing space before ${quote(t)}`, t.pos);
      args.push(this.operand(c));
    }
    return { args, pos };
  }

  /** A term and the fields chained to it without spaces (`$x.A`, `(pipe).B`). */
  private operand(c: Cursor): Operand {
    const t = c.next();
    const chain = (): string[] => {
      const names: string[] = [];
      while (c.peek()?.kind === 'field' && !c.peek().spaced) names.push(c.next().text.slice(1));
      return names;
    };
    switch (t.kind) {
      case 'field':
        return { type: 'field', names: [t.text.slice(1), ...chain()], pos: t.pos };
      case 'dot':
        return { type: 'dot', pos: t.pos };
      case 'variable':
        if (!this.vars.includes(t.text)) this.fail(`undefined variable "${t.text}"`, t.pos);
        return { type: 'variable', name: t.text, names: chain(), pos: t.pos };
      case 'lparen': {
        const pipe = this.pipelineAt(c, t.pos, 'parenthesized pipeline');
        if (c.peek()?.kind !== 'rparen') this.fail('unclosed left paren', t.pos);
        c.next();
        return { type: 'pipe', pipe, names: chain(), pos: t.pos };
      }
      case 'string':
      case 'number':
      case 'char':
        return { type: 'literal', value: t.value, pos: t.pos };
      case 'ident': {
        if (t.text === 'true' || t.text === 'false') return { type: 'literal', value: t.text === 'true', pos: t.pos };
        if (t.text === 'nil') return { type: 'literal', value: null, pos: t.pos };
        if (KEYWORDS.has(t.text)) this.fail(`unexpected <${t.text}> in command`, t.pos);
        if (!isFunction(t.text)) this.fail(`function "${t.text}" not defined`, t.pos);
        return { type: 'function', name: t.text, pos: t.pos };
      }
      default:
        return this.fail(`unexpected ${quote(t)} in operand`, t.pos);
    }
  }
}

function quote(t: Token): string {
  return `"${t.text}"`;
}

class Cursor {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}
  done(): boolean {
    return this.i >= this.tokens.length;
  }
  peek(ahead = 0): Token {
    return this.tokens[this.i + ahead];
  }
  next(): Token {
    return this.tokens[this.i++];
  }
  skip(n: number): void {
    this.i += n;
  }
}

/** Parses a template into its tree; throws TemplateError (TEMPLATE_SYNTAX) with the line and column. */
export function parseTemplate(src: string): Node[] {
  const p = new Parser(src, segment(src));
  const { nodes, stop } = p.list();
  if (stop) p.fail(`unexpected {{${stop.tokens[0].text}}}`, stop.pos);
  return nodes;
}
