import type { Logger } from '@hypr/core';
import type { StackService, StackSpec } from '@hypr/core/compose';
import { expect, test } from 'vitest';
import type { StackImageOps } from './deps.js';
import { StackProvisioner } from './provisioner.js';
import type { StackEvent } from './types.js';

const svc = (name: string, image: string, build: boolean) =>
  ({ name, image, ...(build ? { build: { tag: image } } : {}) }) as unknown as StackService;

const spec = {
  name: 'shop',
  services: {
    app: svc('app', 'shop-app', true),
    named: svc('named', 'me/named:1', true),
    db: svc('db', 'postgres', false),
    missing: svc('missing', 'shop-missing', true),
  },
} as unknown as StackSpec;

/** An image store holding every image but shop-missing (a fake: only what removeImages calls). */
function provisioner() {
  const removed: string[] = [];
  const images = {
    store: {
      findImage: (ref: string) => (ref === 'shop-missing' ? undefined : { digest: ref }),
      removeImage: (ref: string) => {
        if (ref === 'postgres') throw new Error('image postgres is used by container 0123');
        removed.push(ref);
        return { untagged: [ref] };
      },
    },
  } as unknown as StackImageOps;
  return { removed, p: new StackProvisioner({ images, logger: {} as Logger }) };
}

test('down --rmi local removes only the images built under the project name', () => {
  const { removed, p } = provisioner();
  p.removeImages(spec, 'local', () => {});
  expect(removed).toEqual(['shop-app']);
});

test('down --rmi all removes every service image; one in use is a warning', () => {
  const { removed, p } = provisioner();
  const events: StackEvent[] = [];
  p.removeImages(spec, 'all', (e) => events.push(e));
  expect(removed.sort()).toEqual(['me/named:1', 'shop-app']);
  expect(events).toContainEqual(expect.objectContaining({ kind: 'Image', name: 'postgres', warning: true }));
  expect(events).toContainEqual({ kind: 'Image', name: 'shop-app', status: 'Removed' });
});
