import { expect, test } from 'vitest';
import { createPlainProgressPrinter } from './progress.js';

test('plain progress prints BuildKit-style numbered lines, CACHED and DONE', () => {
  const lines: string[] = [];
  const p = createPlainProgressPrinter((l) => lines.push(l));
  p({ type: 'step', id: 1, name: '[1/3] FROM busybox', stage: 0, step: 0, status: 'done', durationMs: 0 });
  p({ type: 'step', id: 2, name: '[2/3] COPY . /app', stage: 0, step: 0, status: 'cached', durationMs: 1 });
  p({ type: 'step', id: 3, name: '[3/3] RUN make', stage: 0, step: 1, status: 'running' });
  p({ type: 'log', id: 3, stream: 'stdout', data: Buffer.from('one\ntw') });
  p({ type: 'log', id: 3, stream: 'stderr', data: Buffer.from('o\n') });
  p({ type: 'step', id: 3, name: '[3/3] RUN make', stage: 0, step: 1, status: 'done', durationMs: 2100 });
  expect(lines.map((l) => l.replace(/ \d+\.\d{3} /, ' T '))).toEqual([
    '#1 [1/3] FROM busybox',
    '#1 DONE 0.0s',
    '#2 [2/3] COPY . /app',
    '#2 CACHED',
    '#3 [3/3] RUN make',
    '#3 T one',
    '#3 T two',
    '#3 DONE 2.1s',
  ]);
});
