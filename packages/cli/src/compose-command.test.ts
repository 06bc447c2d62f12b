import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertToStack, loadCompose } from '@hypr/core/compose';
import { expect, test } from 'vitest';
import { parseScale, withBuildPullDefault } from './compose-command.js';

test('a build: service is built when its image is missing, unless pull_policy says build', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hypr-compose-build-'));
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
  writeFileSync(
    join(dir, 'compose.yaml'),
    'services:\n  app: { build: . }\n  tagged: { build: ., image: me/tagged }\n  always: { build: ., pull_policy: build }\n',
  );
  const project = loadCompose({ workingDir: dir, env: {} });
  const spec = withBuildPullDefault(project, convertToStack(project));
  expect(spec.services.app.pullPolicy).toBe('missing');
  expect(spec.services.tagged.pullPolicy).toBe('missing');
  expect(spec.services.always.pullPolicy).toBe('build');
});

test('--scale SERVICE=NUM, each a replica count; anything else is an error naming it', () => {
  expect(parseScale(['web=3', 'db=0'])).toEqual({ web: 3, db: 0 });
  expect(() => parseScale(['web'])).toThrow(/invalid --scale web: expected SERVICE=NUM/);
  expect(() => parseScale(['web=-1'])).toThrow(/invalid --scale web=-1/);
});
