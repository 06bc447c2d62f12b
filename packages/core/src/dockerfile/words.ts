/**
 * How BuildKit's parser cuts the text after a keyword: `--flags` off the front (extractBuilderFlags),
 * words split on whitespace outside quotes with quotes and escapes kept (parseWords), or plain
 * whitespace-separated words (parseStringsWhitespaceDelimited).
 */

export function isWs(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\v' || ch === '\f';
}

/** Splits `--flags` off the front of the arguments, with BuildKit's quoting rules for flag values. */
export function extractFlags(line: string): { rest: string; flags: string[] } {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOk = false;
  for (let pos = 0; pos <= line.length; pos++) {
    const ch = pos < line.length ? line[pos] : '';
    if (phase === 'spaces') {
      if (pos === line.length) break;
      if (isWs(ch)) continue;
      if (ch !== '-' || pos + 1 === line.length || line[pos + 1] !== '-')
        return { rest: line.slice(pos), flags: words };
      phase = 'word';
    }
    if (pos === line.length) {
      if (word !== '--' && (blankOk || word.length > 0)) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isWs(ch)) {
        phase = 'spaces';
        if (word === '--') return { rest: line.slice(pos), flags: words };
        if (blankOk || word.length > 0) words.push(word);
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        phase = 'quote';
        continue;
      }
      if (ch === '\\') {
        if (pos + 1 === line.length) continue;
        pos++;
        word += line[pos];
        continue;
      }
      word += ch;
      continue;
    }
    // in a quote
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === '\\') {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      pos++;
      word += line[pos];
      continue;
    }
    word += ch;
  }
  return { rest: '', flags: words };
}

/** Splits on whitespace outside quotes, keeping quotes and escapes (BuildKit's parseWords). */
export function splitWords(rest: string, escapeToken: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote = '';
  let blankOk = false;
  const chars = Array.from(rest);
  for (let pos = 0; pos <= chars.length; pos++) {
    if (pos === chars.length) {
      if (blankOk || word.length > 0) words.push(word);
      break;
    }
    const ch = chars[pos];
    if (!inWord) {
      if (isWs(ch)) continue;
      inWord = true;
    }
    if (quote === '') {
      if (isWs(ch)) {
        if (blankOk || word.length > 0) words.push(word);
        word = '';
        blankOk = false;
        inWord = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
      }
      if (ch === escapeToken) {
        if (pos + 1 === chars.length) continue;
        word += ch;
        pos++;
        word += chars[pos];
        continue;
      }
      word += ch;
      continue;
    }
    if (ch === quote) quote = '';
    if (ch === escapeToken && quote !== "'") {
      if (pos + 1 === chars.length) continue;
      word += ch;
      pos++;
      word += chars[pos];
      continue;
    }
    word += ch;
  }
  return words;
}

export function splitWhitespace(rest: string): string[] {
  const t = rest.trim();
  return t === '' ? [] : t.split(/[ \t\r\n\v\f]+/);
}
