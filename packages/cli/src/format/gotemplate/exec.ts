// Go text/template, step 3: the tree run against the data. Fields of objects (and the methods docker's
// row types have, e.g. `.Label "k"`), variables with their block scope, range over lists, maps (sorted
// keys, as Go) and integers, break/continue, and failures as TEMPLATE_EXECUTION errors with a position.
import { TemplateError } from './error.js';
import { FUNCS, FuncError, LAZY, callFunction } from './funcs.js';
import type { Block, Command, Node, Operand, Pipe } from './parse.js';
import { kindOf, printValue, truth } from './value.js';

export interface ExecOptions {
  /** A field missing from an object: an error (docker's typed rows, the default) or `<no value>` (maps). */
  missingKey?: 'error' | 'zero';
}

/** No template may loop longer than this (a range over a huge integer). */
const MAX_ITERATIONS = 1_000_000;

class LoopSignal {
  constructor(readonly kind: 'break' | 'continue') {}
}

/** Marks "no value piped in" apart from a piped `undefined`. */
const NONE = Symbol('none');
type Final = unknown | typeof NONE;

class Exec {
  private vars: { name: string; value: unknown }[] = [];
  private out = '';
  private iterations = 0;

  constructor(
    private readonly src: string,
    private readonly options: ExecOptions,
  ) {}

  fail(message: string, pos: number): never {
    throw new TemplateError(`executing at <${this.describe(pos)}>: ${message}`, this.src, pos, true);
  }

  /** The text of the operand at `pos`, for messages as Go gives them (`at <.Foo>`). */
  private describe(pos: number): string {
    const m = /^[^\s|)}]+/.exec(this.src.slice(pos));
    return m ? m[0] : '';
  }

  run(nodes: Node[], data: unknown): string {
    this.vars = [{ name: '$', value: data }];
    this.walk(nodes, data);
    return this.out;
  }

  private walk(nodes: Node[], dot: unknown): void {
    for (const n of nodes) this.node(n, dot);
  }

  private node(n: Node, dot: unknown): void {
    switch (n.type) {
      case 'text':
        this.out += n.text;
        return;
      case 'action': {
        const v = this.pipeline(n.pipe, dot);
        if (!n.pipe.decl.length) this.out += printValue(v);
        return;
      }
      case 'break':
      case 'continue':
        throw new LoopSignal(n.type);
      case 'if':
      case 'with': {
        const scope = this.vars.length;
        const v = this.pipeline(n.pipe, dot);
        if (truth(v)) this.walk(n.list, n.type === 'with' ? v : dot);
        else if (n.elseList) this.walk(n.elseList, dot);
        this.vars.length = scope;
        return;
      }
      case 'range':
        this.range(n, dot);
        return;
    }
  }

  private range(n: Block, dot: unknown): void {
    const scope = this.vars.length;
    const v = this.pipeline(n.pipe, dot, true);
    let items: [unknown, unknown][];
    if (v === undefined || v === null) items = [];
    else if (Array.isArray(v)) items = v.map((e, i) => [i, e]);
    else if (typeof v === 'number' && Number.isInteger(v) && v >= 0) {
      if (v > MAX_ITERATIONS) this.fail(`range over ${v} is too long`, n.pos);
      items = Array.from({ length: v }, (_, i) => [i, i]);
    } else if (typeof v === 'object')
      items = Object.keys(v)
        .sort()
        .map((k) => [k, (v as Record<string, unknown>)[k]]);
    else this.fail(`range can't iterate over ${printValue(v)}`, n.pos);
    const [first, second] = n.pipe.decl;
    for (const [key, elem] of items) {
      if (++this.iterations > MAX_ITERATIONS) this.fail('the template runs too long', n.pos);
      const inner = this.vars.length;
      if (second) this.vars.push({ name: first, value: key }, { name: second, value: elem });
      else if (first) this.vars.push({ name: first, value: elem });
      try {
        this.walk(n.list, elem);
      } catch (e) {
        if (!(e instanceof LoopSignal)) throw e;
        if (e.kind === 'break') break;
      } finally {
        this.vars.length = inner;
      }
    }
    if (!items.length && n.elseList) this.walk(n.elseList, dot);
    this.vars.length = scope;
  }

  /** Runs the commands in order, each given the previous value as its last argument. */
  private pipeline(p: Pipe, dot: unknown, isRange = false): unknown {
    let value: Final = NONE;
    for (const c of p.cmds) value = this.command(c, dot, value);
    if (p.assign) {
      const name = p.decl[0];
      for (let i = this.vars.length - 1; i >= 0; i--)
        if (this.vars[i].name === name) {
          this.vars[i].value = value;
          break;
        }
    } else if (p.decl.length && !isRange) this.vars.push({ name: p.decl[0], value });
    return value;
  }

  private command(c: Command, dot: unknown, final: Final): unknown {
    const [first, ...rest] = c.args;
    switch (first.type) {
      case 'function':
        return this.call(first.name, rest, dot, final, first.pos);
      case 'field':
        return this.fields(dot, first.names, rest, dot, final, first.pos);
      case 'variable':
        return this.fields(this.variable(first.name), first.names, rest, dot, final, first.pos);
      case 'pipe':
        return this.fields(this.pipeline(first.pipe, dot), first.names, rest, dot, final, first.pos);
      default:
        if (rest.length || final !== NONE)
          this.fail(`can't give argument to non-function ${this.describe(first.pos)}`, first.pos);
        return this.arg(first, dot);
    }
  }

  private variable(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i].value;
    return undefined;
  }

  /** An operand used as an argument: evaluated on its own. */
  private arg(a: Operand, dot: unknown): unknown {
    switch (a.type) {
      case 'dot':
        return dot;
      case 'literal':
        return a.value;
      case 'function':
        return this.call(a.name, [], dot, NONE, a.pos);
      default:
        return this.command({ args: [a], pos: a.pos }, dot, NONE);
    }
  }

  private call(name: string, argNodes: Operand[], dot: unknown, final: Final, pos: number): unknown {
    if (LAZY.has(name)) {
      const operands: (() => unknown)[] = argNodes.map((a) => () => this.arg(a, dot));
      if (final !== NONE) operands.push(() => final);
      if (!operands.length) this.fail(`wrong number of args for ${name}: want at least 1 got 0`, pos);
      let v: unknown;
      for (const get of operands) {
        v = get();
        if (name === 'and' ? !truth(v) : truth(v)) return v;
      }
      return v;
    }
    const args = argNodes.map((a) => this.arg(a, dot));
    if (final !== NONE) args.push(final);
    try {
      return callFunction(name, args);
    } catch (e) {
      if (e instanceof FuncError || !(name in FUNCS)) this.fail((e as Error).message, pos);
      this.fail(`error calling ${name}: ${(e as Error).message}`, pos);
    }
  }

  /** `.A.B` on a receiver; the last field may be a method given the arguments. */
  private fields(
    receiver: unknown,
    names: string[],
    argNodes: Operand[],
    dot: unknown,
    final: Final,
    pos: number,
  ): unknown {
    const hasArgs = argNodes.length > 0 || final !== NONE;
    if (!names.length) {
      if (hasArgs) this.fail(`can't give argument to non-function ${this.describe(pos)}`, pos);
      return receiver;
    }
    let v = receiver;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const last = i === names.length - 1;
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'object' || Array.isArray(v))
        this.fail(`can't evaluate field ${name} in type ${kindOf(v)}`, pos);
      const obj = v as Record<string, unknown>;
      const f = Object.hasOwn(obj, name) ? obj[name] : undefined;
      if (typeof f === 'function') {
        const args = last ? argNodes.map((a) => this.arg(a, dot)) : [];
        if (last && final !== NONE) args.push(final);
        try {
          v = (f as (...a: unknown[]) => unknown).apply(obj, args);
        } catch (e) {
          this.fail(`error calling ${name}: ${(e as Error).message}`, pos);
        }
        continue;
      }
      if (last && hasArgs) this.fail(`${name} has arguments but cannot be invoked as function`, pos);
      if (!Object.hasOwn(obj, name)) {
        if (this.options.missingKey === 'zero') return undefined;
        this.fail(`can't evaluate field ${name} in type ${kindOf(v)}`, pos);
      }
      v = f;
    }
    return v;
  }
}

/** Runs a parsed template; throws TemplateError (TEMPLATE_EXECUTION) with the line and column. */
export function execTemplate(src: string, nodes: Node[], data: unknown, options: ExecOptions = {}): string {
  return new Exec(src, options).run(nodes, data);
}
