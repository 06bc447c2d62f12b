import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { StackDependencyCondition, StackPortProtocol, StackRestart, StackSpecSchema } from '@hypr/api';
import { convertToStack, loadCompose } from '@hypr/core/compose';
import { expect, test } from 'vitest';
import { stackSpecToProto } from './compose-spec.js';

const COMPOSE = `
name: shop
services:
  db:
    image: postgres
    healthcheck:
      test: ["CMD", "pg_isready"]
      interval: 2s
    volumes: [data:/var/lib/postgresql/data]
  web:
    build: .
    entrypoint: []
    ports: ["8000:80", "127.0.0.1:53:53/udp"]
    tmpfs: ["/run:size=1m"]
    healthcheck:
      disable: true
    restart: on-failure:3
    depends_on:
      db: { condition: service_healthy }
    secrets: [token]
secrets:
  token:
    environment: TOKEN
volumes:
  data: {}
`;

function loadSpec() {
  const dir = mkdtempSync(join(tmpdir(), 'hypr-compose-spec-'));
  writeFileSync(join(dir, 'compose.yaml'), COMPOSE);
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
  return convertToStack(loadCompose({ workingDir: dir, env: { TOKEN: 'secret' } }));
}

test('a converted stack becomes one typed message that survives the wire', () => {
  const msg = stackSpecToProto(loadSpec());
  expect(fromBinary(StackSpecSchema, toBinary(StackSpecSchema, msg))).toEqual(msg);
  const { db, web } = msg.services;
  expect(db.health).toMatchObject({ case: 'healthcheck', value: { test: ['CMD', 'pg_isready'], intervalMs: 2000n } });
  expect(db.mounts[0].type).toMatchObject({
    case: 'volume',
    value: { source: 'shop_data', target: '/var/lib/postgresql/data' },
  });
  expect(db.entrypoint).toBeUndefined();
  expect(web.entrypoint?.words).toEqual([]);
  expect(web.health).toEqual({ case: 'healthcheckDisabled', value: true });
  expect(web.ports.map((p) => [p.hostIp, p.hostPort, p.containerPort, p.protocol])).toEqual([
    [undefined, 8000, 80, StackPortProtocol.TCP],
    ['127.0.0.1', 53, 53, StackPortProtocol.UDP],
  ]);
  expect(web.mounts[0].type).toMatchObject({ case: 'tmpfs', value: { target: '/run', sizeBytes: 1048576n } });
  expect(web.restart).toMatchObject({ policy: StackRestart.ON_FAILURE, maxRetries: 3 });
  expect(web.dependsOn[0]).toMatchObject({ service: 'db', condition: StackDependencyCondition.SERVICE_HEALTHY });
  expect(web.files[0]).toMatchObject({ name: 'token', content: 'secret', target: '/run/secrets/token' });
  expect(web.build?.tag).toBe('shop-web');
  expect(msg.startOrder.map((g) => g.services)).toEqual([['db'], ['web']]);
  expect(msg.volumes.data.name).toBe('shop_data');
});
