import { HyprError } from '@hypr/core/errors';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { renderTemplate } from '../template.js';
import { TemplateError } from './error.js';

const data = {
  Name: '/web',
  Args: ['-g', 'x'],
  State: { Running: true, Pid: 7, Health: null },
  Labels: { a: '1' },
  Label: (k: string) => k,
};

/** Pieces of template syntax, so the generated texts reach deep into the parser and the executor. */
const piece = fc.constantFrom(
  '{{',
  '}}',
  '{{- ',
  ' -}}',
  '{{/* c */}}',
  '.Name',
  '.State',
  '.Running',
  '.Args',
  '.Labels',
  '.Label',
  '.Nope',
  '.',
  '$',
  '$x',
  '$i',
  ':=',
  '=',
  ',',
  '|',
  '(',
  ')',
  ' ',
  '\n',
  '"a"',
  '`b`',
  "'c'",
  '1',
  '-2',
  '0x1f',
  '1.5',
  'true',
  'nil',
  'if',
  'else',
  'end',
  'range',
  'with',
  'break',
  'continue',
  'define',
  'len',
  'index',
  'printf',
  'json',
  'join',
  'eq',
  'lt',
  'and',
  'not',
  'slice',
  '%d',
  'frob',
  '\\t',
);

function check(tpl: string): void {
  for (const missingKey of ['error', 'zero'] as const) {
    try {
      expect(typeof renderTemplate(tpl, data, { missingKey })).toBe('string');
    } catch (e) {
      expect(e).toBeInstanceOf(TemplateError);
      expect(e).toBeInstanceOf(HyprError);
      const { line, column, code } = e as TemplateError;
      expect(line).toBeGreaterThanOrEqual(1);
      expect(column).toBeGreaterThanOrEqual(1);
      expect(['TEMPLATE_SYNTAX', 'TEMPLATE_EXECUTION']).toContain(code);
      expect((e as Error).message).toMatch(/^template: :\d+:\d+: /);
    }
  }
}

test('any template text renders or fails with a located TemplateError', () => {
  fc.assert(fc.property(fc.string({ maxLength: 60 }), check), { numRuns: 2000 });
});

test('any sequence of template syntax renders or fails with a located TemplateError', () => {
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 30 }), (parts) => check(parts.join(''))),
    { numRuns: 2000 },
  );
});

test('any action built of syntax pieces renders or fails with a located TemplateError', () => {
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 12 }), fc.array(piece, { maxLength: 12 }), (a, b) =>
      check(`x{{${a.join(' ')}}}y{{${b.join(' ')}}}z{{end}}`),
    ),
    { numRuns: 2000 },
  );
});
