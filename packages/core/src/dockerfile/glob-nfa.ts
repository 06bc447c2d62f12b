/**
 * A small Thompson NFA for the wildcard patterns of Dockerfiles: `${VAR#pattern}` and friends in word
 * expansion, and `.dockerignore` lines. Both used to be translated into JavaScript regular expressions,
 * whose backtracking made a 60-byte line of `*` take tens of seconds. Here a pattern is a list of
 * nodes and a match walks the text once, keeping the set of nodes alive at each character: time is
 * O(text × pattern) whatever the pattern, as with Go's RE2, which BuildKit and moby use.
 */

/** One node. `char` consumes a character that `test` accepts; `split` goes to both; `start` passes only at 0. */
export type NfaNode =
  | { kind: 'char'; test: (c: string) => boolean; next: number }
  | { kind: 'split'; a: number; b: number }
  | { kind: 'start'; next: number }
  | { kind: 'match' };

/** A compiled pattern: nodes, entered at `start`. */
export interface Nfa {
  nodes: NfaNode[];
  start: number;
}

/** One element of a pattern, in order. */
export type NfaToken =
  /** Exactly one character accepted by `test`. */
  | { kind: 'one'; test: (c: string) => boolean }
  /** Any number (0…) of characters accepted by `test`. */
  | { kind: 'many'; test: (c: string) => boolean }
  /** Either nothing, or any number of `test` characters followed by one `end` character (regexp `(.*\/)?`). */
  | { kind: 'optionalRun'; test: (c: string) => boolean; end: (c: string) => boolean }
  /** Matches only at the start of the text (a regexp `^` inside a pattern). */
  | { kind: 'start' };

/** Builds the NFA of a token list (back to front, so each node knows its successor). */
export function compileNfa(tokens: readonly NfaToken[]): Nfa {
  const nodes: NfaNode[] = [{ kind: 'match' }];
  let next = 0;
  for (let i = tokens.length - 1; i >= 0; i--) {
    const t = tokens[i];
    if (t.kind === 'one') {
      nodes.push({ kind: 'char', test: t.test, next });
      next = nodes.length - 1;
    } else if (t.kind === 'start') {
      nodes.push({ kind: 'start', next });
      next = nodes.length - 1;
    } else if (t.kind === 'many') {
      // split → (char → split) | next
      const split = nodes.length;
      nodes.push({ kind: 'split', a: split + 1, b: next });
      nodes.push({ kind: 'char', test: t.test, next: split });
      next = split;
    } else {
      // split → loop | next;  loop: split(char test → loop, char end → next)
      const outer = nodes.length;
      nodes.push({ kind: 'split', a: outer + 1, b: next });
      nodes.push({ kind: 'split', a: outer + 2, b: outer + 3 });
      nodes.push({ kind: 'char', test: t.test, next: outer + 1 });
      nodes.push({ kind: 'char', test: t.end, next });
      next = outer;
    }
  }
  return { nodes, start: next };
}

/** Adds `from` and every node reachable from it without consuming to `set` (pos is the text position). */
function addClosure(nfa: Nfa, set: Set<number>, from: number, pos: number): void {
  const stack = [from];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (set.has(n)) continue;
    set.add(n);
    const node = nfa.nodes[n];
    if (node.kind === 'split') stack.push(node.b, node.a);
    else if (node.kind === 'start' && pos === 0) stack.push(node.next);
  }
}

function step(nfa: Nfa, set: Set<number>, c: string, pos: number): Set<number> {
  const out = new Set<number>();
  for (const n of set) {
    const node = nfa.nodes[n];
    if (node.kind === 'char' && node.test(c)) addClosure(nfa, out, node.next, pos);
  }
  return out;
}

function accepts(nfa: Nfa, set: Set<number>): boolean {
  for (const n of set) if (nfa.nodes[n].kind === 'match') return true;
  return false;
}

/** Whether the pattern matches the whole text (`chars`: the text split into code points). */
export function matchesWhole(nfa: Nfa, chars: readonly string[]): boolean {
  let set = new Set<number>();
  addClosure(nfa, set, nfa.start, 0);
  for (let i = 0; i < chars.length && set.size > 0; i++) set = step(nfa, set, chars[i], i + 1);
  return accepts(nfa, set);
}

/**
 * Whether the pattern matches the text up to any position `at` accepts (a path and its parents: the
 * positions of its slashes and its end), in one pass over the text.
 */
export function matchesSomePrefix(nfa: Nfa, chars: readonly string[], at: (i: number) => boolean): boolean {
  let set = new Set<number>();
  addClosure(nfa, set, nfa.start, 0);
  for (let i = 0; set.size > 0; i++) {
    if (at(i) && accepts(nfa, set)) return true;
    if (i >= chars.length) return false;
    set = step(nfa, set, chars[i], i + 1);
  }
  return false;
}

/**
 * Ends of the matches that start at `from` (as code-point indexes), shortest first. Stops at the
 * first end when `shortest` is set.
 */
export function matchEnds(nfa: Nfa, chars: readonly string[], from: number, shortest: boolean): number[] {
  const ends: number[] = [];
  let set = new Set<number>();
  addClosure(nfa, set, nfa.start, from);
  for (let i = from; ; i++) {
    if (accepts(nfa, set)) {
      ends.push(i);
      if (shortest) return ends;
    }
    if (i >= chars.length || set.size === 0) return ends;
    set = step(nfa, set, chars[i], i + 1);
  }
}

/**
 * For every position of the text, whether a match of `reversed` (the pattern read backwards) ends
 * there when run over the reversed text: that is, whether a match of the pattern can start there.
 * One pass, whatever the number of candidate starts.
 */
export function possibleStarts(reversed: Nfa, chars: readonly string[]): boolean[] {
  const n = chars.length;
  const can = new Array<boolean>(n + 1).fill(false);
  let set = new Set<number>();
  // Walking the reversed text, position k of it is position n-k of the text.
  for (let k = 0; ; k++) {
    addClosure(reversed, set, reversed.start, k);
    if (accepts(reversed, set)) can[n - k] = true;
    if (k >= n) return can;
    set = step(reversed, set, chars[n - 1 - k], k + 1);
  }
}
