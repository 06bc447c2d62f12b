import { type JsonObject, fromJson } from '@bufbuild/protobuf';
import { StackSpecSchema } from '@hypr/api';
import { HyprError } from '@hypr/core';
import { describe, expect, test } from 'vitest';
import { stackSpecFromProto } from './spec-proto.js';

// Requests as any client may send them: the proto JSON form, decoded by protobuf-es.
const web = (extra: JsonObject = {}): JsonObject => ({
  image: 'nginx',
  pullPolicy: 'missing',
  hostname: 'web',
  restart: { policy: 'STACK_RESTART_NO' },
  replicas: 1,
  stopSignal: 'SIGTERM',
  stopGracePeriodMs: '10000',
  ...extra,
});
const request = (services: JsonObject, extra: JsonObject = {}) =>
  fromJson(StackSpecSchema, {
    name: 'shop',
    services,
    startOrder: Object.keys(services).map((s) => ({ services: [s] })),
    ...extra,
  });

function refused(msg: ReturnType<typeof request> | undefined): HyprError {
  try {
    stackSpecFromProto(msg);
  } catch (e) {
    expect(e).toBeInstanceOf(HyprError);
    expect((e as HyprError).code).toBe('INVALID_ARGUMENT');
    return e as HyprError;
  }
  throw new Error('the spec was accepted');
}

describe('stackSpecFromProto', () => {
  test('gives back every field of a service as convertToStack shapes it', () => {
    const spec = stackSpecFromProto(
      request({
        web: web({
          entrypoint: { words: [] },
          env: { A: '1' },
          ports: [{ hostPort: 8080, containerPort: 80, protocol: 'STACK_PORT_PROTOCOL_TCP' }],
          mounts: [
            { bind: { source: '/srv', target: '/srv', readOnly: true } },
            { volume: { target: '/anon' } },
            { tmpfs: { target: '/tmp', sizeBytes: '1048576', mode: 0o1777 } },
          ],
          files: [
            { kind: 'STACK_FILE_KIND_SECRET', name: 'token', target: '/run/secrets/token', content: 'x', mode: 0o444 },
          ],
          networks: [{ network: 'default', name: 'shop_default', aliases: ['web'] }],
          healthcheckDisabled: true,
          restart: { policy: 'STACK_RESTART_ON_FAILURE', maxRetries: 3 },
          resources: { memoryMib: 512 },
          ulimits: { nofile: { soft: '1024', hard: '-1' } },
        }),
      }),
    );
    const svc = spec.services.web;
    expect(svc).toMatchObject({
      name: 'web',
      entrypoint: [],
      ports: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
      mounts: [
        { type: 'bind', source: '/srv', target: '/srv', readOnly: true, createHostPath: false },
        { type: 'volume', target: '/anon', readOnly: false, noCopy: false },
        { type: 'tmpfs', target: '/tmp', sizeBytes: 1048576, mode: 0o1777 },
      ],
      files: [{ kind: 'secret', name: 'token', content: 'x' }],
      healthcheck: null,
      restart: { policy: 'on-failure', maxRetries: 3 },
      resources: { memoryMiB: 512 },
      stopGracePeriodMs: 10000,
      ulimits: { nofile: { soft: 1024, hard: -1 } },
    });
    // Absent stays absent, so the config hash of an unchanged service does not move.
    expect(Object.keys(svc)).not.toContain('command');
    expect(Object.keys(svc.mounts[1])).not.toContain('source');
    expect(Object.keys(svc.resources)).toEqual(['memoryMiB']);
    expect(spec.startOrder).toEqual([['web']]);
  });

  test('a service with no mounts has none; a mount without a type is refused by its path', () => {
    expect(stackSpecFromProto(request({ web: web() })).services.web.mounts).toEqual([]);
    expect(refused(request({ web: web({ mounts: [{}] }) })).message).toMatch(
      /services\[web\]\.mounts\[0\]\.type is not set/,
    );
    expect(refused(request({ web: web({ mounts: [{ volume: { target: 'data' } }] }) })).message).toMatch(
      /services\[web\]\.mounts\[0\]\.volume\.target must be an absolute path/,
    );
  });

  test('missing or unset fields the orchestrator relies on are named', () => {
    expect(refused(undefined).message).toMatch(/spec is missing/);
    const { restart: _restart, ...noRestart } = web();
    expect(refused(request({ web: noRestart })).message).toMatch(/services\[web\]\.restart is missing/);
    expect(refused(request({ web: web({ restart: {} }) })).message).toMatch(/services\[web\]\.restart\.policy/);
    expect(refused(request({ web: web({ image: '' }) })).message).toMatch(/services\[web\]\.image is empty/);
    expect(refused(request({ web: web({ ports: [{ containerPort: 80 }] }) })).message).toMatch(
      /services\[web\]\.ports\[0\]\.protocol/,
    );
    expect(refused(request({ web: web({ dependsOn: [{ service: 'db' }] }) })).message).toMatch(
      /services\[web\]\.depends_on\[0\]\.condition/,
    );
    expect(
      refused(
        request({
          web: web({ dependsOn: [{ service: 'db', condition: 'STACK_DEPENDENCY_CONDITION_SERVICE_HEALTHY' }] }),
        }),
      ).message,
    ).toMatch(/services\[web\]\.depends_on\[0\]\.service names no service: db/);
    expect(refused(request({ web: web({ healthcheck: { test: [] } }) })).message).toMatch(
      /services\[web\]\.healthcheck\.test is empty/,
    );
  });

  test('names that become host paths are refused when they could escape', () => {
    expect(refused(request({ web: web() }, { name: '../etc' })).message).toMatch(/name "\.\.\/etc" is not a valid/);
    const file = { kind: 'STACK_FILE_KIND_CONFIG', name: '../../passwd', target: '/x', content: 'x' };
    expect(refused(request({ web: web({ files: [file] }) })).message).toMatch(/services\[web\]\.files\[0\]\.name/);
  });

  test('the start order lists every service once', () => {
    expect(refused(request({ web: web(), db: web() }, { startOrder: [{ services: ['web'] }] })).message).toMatch(
      /start_order lacks service db/,
    );
    expect(refused(request({ web: web() }, { startOrder: [{ services: ['web', 'api'] }] })).message).toMatch(
      /start_order\[0\]\.services\[1\] names no service: api/,
    );
  });
});
