import { describe, expect, test } from 'vitest';
import { parseTableFormat, renderHeader, renderTemplate } from './template.js';

const ps = {
  ID: 'abc123',
  Names: 'web',
  Status: 'Up 5 seconds',
  Labels: 'a=1',
  Label: (k: string) => (k === 'a' ? '1' : ''),
  State: { Status: 'running', ExitCode: 0 },
  Args: ['-c', 'x'],
};

describe('the Go-template subset docker users write', () => {
  test.each([
    ['{{.Names}}', 'web'],
    ['{{.ID}}: {{.Status}}', 'abc123: Up 5 seconds'],
    ['{{.State.Status}} {{.State.ExitCode}}', 'running 0'],
    ['{{json .State}}', '{"Status":"running","ExitCode":0}'],
    ['{{ .Names | upper }}', 'WEB'],
    ['{{upper .Names}}', 'WEB'],
    ['{{.Label "a"}}', '1'],
    ['{{index .State "Status"}}', 'running'],
    ['{{join .Args " "}}', '-c x'],
    ['{{len .Args}}', '2'],
    ['{{.ID}}\\t{{.Names}}', 'abc123\tweb'],
  ])('%s', (tpl, out) => expect(renderTemplate(tpl, ps)).toBe(out));

  test('an unknown field is an error naming it', () => {
    expect(() => renderTemplate('{{.Nope}}', ps)).toThrow(/can't evaluate field Nope/);
  });
  test('an unknown function is an error', () => {
    expect(() => renderTemplate('{{frob .Names}}', ps)).toThrow(/function "frob" not defined/);
  });
});

test('table formats have a header with docker column titles', () => {
  const { table, template } = parseTableFormat('table {{.ID}}\\t{{.Names}}');
  expect(table).toBe(true);
  expect(renderHeader(template, { ID: 'CONTAINER ID', Names: 'NAMES' })).toBe('CONTAINER ID\tNAMES');
  expect(parseTableFormat('{{.ID}}')).toEqual({ table: false, template: '{{.ID}}' });
});
