import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { ComposeUnsupportedError, computeStartOrder, convertToStack } from './convert.js';
import { loadCompose } from './load.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function stackOf(yaml: string, env: Record<string, string> = {}) {
  dir = mkdtempSync(join(tmpdir(), 'hypr-convert-'));
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  return convertToStack(loadCompose({ workingDir: dir, env, projectName: 'demo' }));
}

describe('convertToStack', () => {
  test('a web+db+cache stack becomes VMs with argv, env, ports, mounts, resources and health checks', () => {
    const stack = stackOf(`
services:
  web:
    build: {context: ., target: prod, args: {A: "1"}}
    command: npm start
    environment: {NODE_ENV: production, UNSET:}
    ports: ["8080:3000", "127.0.0.1:9000-9001:9000-9001"]
    volumes: ["./src:/app:ro", "data:/data", {type: tmpfs, target: /tmp, tmpfs: {size: 16m}}]
    networks: {back: {aliases: [api]}}
    deploy: {resources: {limits: {cpus: "1.5", memory: 300m}}}
    restart: on-failure:3
    depends_on: {db: {condition: service_healthy}}
  db:
    image: postgres:16
    networks: [back]
    mem_limit: 1g
    healthcheck: {test: pg_isready, interval: 1m30s, retries: 5}
    stop_grace_period: 1m
networks: {back: {}}
volumes: {data: {}}
`);
    const web = stack.services.web;
    expect(web.image).toBe('demo-web');
    expect(web.build).toMatchObject({
      context: dir,
      dockerfile: 'Dockerfile',
      target: 'prod',
      args: { A: '1' },
      tag: 'demo-web',
    });
    expect(web.command).toEqual(['npm', 'start']);
    expect(web.entrypoint).toBeUndefined();
    expect(web.env).toEqual({ NODE_ENV: 'production' });
    expect(web.ports).toEqual([
      { containerPort: 3000, hostPort: 8080, protocol: 'tcp' },
      { containerPort: 9000, hostPort: 9000, hostIp: '127.0.0.1', protocol: 'tcp' },
      { containerPort: 9001, hostPort: 9001, hostIp: '127.0.0.1', protocol: 'tcp' },
    ]);
    expect(web.mounts).toEqual([
      { type: 'bind', source: join(dir, 'src'), target: '/app', readOnly: true, createHostPath: true },
      { type: 'volume', source: 'demo_data', target: '/data', readOnly: false, noCopy: false },
      { type: 'tmpfs', target: '/tmp', sizeBytes: 16 * 1024 * 1024 },
    ]);
    expect(web.networks).toEqual([{ network: 'back', name: 'demo_back', aliases: ['web', 'api'] }]);
    expect(web.resources).toEqual({ cpus: 1.5, memoryMiB: 300 });
    expect(web.restart).toEqual({ policy: 'on-failure', maxRetries: 3 });
    expect(web.dependsOn).toEqual([{ service: 'db', condition: 'service_healthy', required: true, restart: false }]);
    const db = stack.services.db;
    expect(db.resources).toEqual({ memoryMiB: 1024 });
    expect(db.healthcheck).toEqual({
      test: ['CMD-SHELL', 'pg_isready'],
      intervalMs: 90_000,
      timeoutMs: 30_000,
      retries: 5,
      startPeriodMs: 0,
      startIntervalMs: 5_000,
    });
    expect(db.stopGracePeriodMs).toBe(60_000);
    expect(stack.startOrder).toEqual([['db'], ['web']]);
    expect(stack.warnings).toEqual([]);
  });

  test('start order groups services that can start in parallel', () => {
    expect(
      computeStartOrder({
        app: {
          depends_on: {
            db: { condition: 'service_healthy', required: true },
            cache: { condition: 'service_started', required: true },
          },
        },
        worker: { depends_on: { db: { condition: 'service_started', required: true } } },
        proxy: { depends_on: { app: { condition: 'service_started', required: true } } },
        db: {},
        cache: {},
        standalone: {},
      }),
    ).toEqual([['cache', 'db', 'standalone'], ['app', 'worker'], ['proxy']]);
  });

  test('host namespaces and host devices are refused, each with its key path', () => {
    let error: unknown;
    try {
      stackOf(`
services:
  a: {image: alpine, network_mode: host}
  b: {image: alpine, pid: host, devices: ["/dev/kvm:/dev/kvm"]}
  c: {image: alpine, network_mode: "service:a", gpus: all}
`);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ComposeUnsupportedError);
    expect((error as ComposeUnsupportedError).problems.map((p) => p.path)).toEqual([
      'services.a.network_mode',
      'services.b.pid',
      'services.b.devices',
      'services.c.network_mode',
      'services.c.gpus',
    ]);
  });

  test('settings a VM makes moot become warnings, never silent drops', () => {
    const stack = stackOf(`
services:
  a:
    image: alpine
    privileged: true
    cap_add: [NET_ADMIN]
    security_opt: ["no-new-privileges:true"]
    device_cgroup_rules: ["c 1:3 mr"]
    uts: host
    logging: {driver: syslog}
`);
    expect(stack.warnings.map((w) => w.path)).toEqual([
      'services.a.uts',
      'services.a.privileged',
      'services.a.device_cgroup_rules',
      'services.a.cap_add',
      'services.a.security_opt',
      'services.a.logging.driver',
    ]);
    expect(stack.services.a.privileged).toBe(true);
  });

  test('secrets and configs become files in the guest, from a file, the environment or inline content', () => {
    const stack = stackOf(
      `
services:
  a:
    image: alpine
    secrets: [db, {source: token, target: api-token, mode: 0400}]
    configs: [{source: conf, target: /etc/app.conf}]
secrets:
  db: {file: ./db.txt}
  token: {environment: TOKEN}
configs:
  conf: {content: "debug=1"}
`,
      { TOKEN: 's3cret' },
    );
    expect(stack.services.a.files).toEqual([
      { kind: 'secret', name: 'db', target: '/run/secrets/db', sourceFile: join(dir, 'db.txt'), mode: 0o444 },
      // `mode: 0400` is octal, as compose-go reads it (loader/tests/secrets_test.go TestServiceSecrets).
      { kind: 'secret', name: 'token', target: '/run/secrets/api-token', content: 's3cret', mode: 0o400 },
      { kind: 'config', name: 'conf', target: '/etc/app.conf', content: 'debug=1', mode: 0o444 },
    ]);
  });

  test('waiting for a service whose health check is disabled is refused', () => {
    expect(() =>
      stackOf(`
services:
  a: {image: alpine, depends_on: {b: {condition: service_healthy}}}
  b: {image: alpine, healthcheck: {disable: true}}
`),
    ).toThrow(/disables its healthcheck/);
  });

  test('a disabled health check is null, an absent one keeps the image default', () => {
    const stack = stackOf('services:\n  a: {image: x, healthcheck: {test: [NONE]}}\n  b: {image: x}\n');
    expect(stack.services.a.healthcheck).toBeNull();
    expect(stack.services.b.healthcheck).toBeUndefined();
  });
});

describe('newer compose keys', () => {
  test('load without a word, and are refused only when up would need them', () => {
    let error: unknown;
    try {
      stackOf(`
services:
  front:
    image: web
    develop: {watch: [{path: ., action: rebuild}]}
    post_start: [{command: ./setup.sh}]
  chat: {image: chat, models: [llm]}
  db: {provider: {type: awesomecloud}}
  gpu: {image: cuda, gpus: all}
models:
  llm: {model: ai/smollm2}
`);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ComposeUnsupportedError);
    const paths = (error as ComposeUnsupportedError).problems.map((p) => p.path).sort();
    expect(paths).toEqual(['services.chat.models', 'services.db.provider', 'services.gpu.gpus']);
  });

  test('develop alone is for watch: up runs the service as is', () => {
    const stack = stackOf('services:\n  a:\n    image: x\n    develop: {watch: [{path: ., action: rebuild}]}\n');
    expect(stack.warnings).toEqual([]);
  });
});
