import { HyprError } from '../errors.js';

/**
 * Splits a string command into words as compose does (mattn/go-shellwords): whitespace separates words,
 * single quotes are literal, double quotes allow `\"` and `\\`, a backslash outside quotes escapes the
 * next character. No expansion, no operators: `command: echo $$HOME` runs echo with a literal `$HOME`.
 */
export function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\' || text[i + 1] === '$')) word += text[++i];
      else word += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) {
    throw new HyprError(
      'COMPOSE_COMMAND_INVALID',
      `unterminated ${quote === '"' ? 'double' : 'single'} quote in ${JSON.stringify(text)}`,
      'close the quote, or write the command as a list',
    );
  }
  if (inWord) words.push(word);
  return words;
}
