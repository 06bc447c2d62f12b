import { HyprError } from '@hypr/core';
import { expect, test } from 'vitest';
import { applyConfigChanges } from './config-changes.js';

test('commit -c applies Dockerfile instructions to a copy of the config', () => {
  const base = { Env: ['PATH=/bin', 'A=0'], Cmd: ['sh'] };
  const out = applyConfigChanges(base, [
    'ENV A=1 B=two',
    'CMD ["cat", "/c.txt"]',
    'ENTRYPOINT /bin/run --fast',
    'EXPOSE 80/tcp 53/udp',
    'LABEL app=web',
    'USER 1000:1000',
    'WORKDIR /srv',
    'VOLUME /data',
    'STOPSIGNAL SIGINT',
  ]);
  expect(out).toMatchObject({
    Env: ['PATH=/bin', 'A=1', 'B=two'],
    Cmd: ['cat', '/c.txt'],
    Entrypoint: ['/bin/sh', '-c', '/bin/run --fast'],
    ExposedPorts: { '80/tcp': {}, '53/udp': {} },
    Labels: { app: 'web' },
    User: '1000:1000',
    WorkingDir: '/srv',
    Volumes: { '/data': {} },
    StopSignal: 'SIGINT',
  });
  expect(base).toEqual({ Env: ['PATH=/bin', 'A=0'], Cmd: ['sh'] });
});

test('an instruction docker does not accept in --change is named', () => {
  try {
    applyConfigChanges({}, ['RUN rm -rf /']);
    expect.unreachable();
  } catch (e) {
    expect(e).toBeInstanceOf(HyprError);
    expect((e as HyprError).message).toContain('--change "RUN rm -rf /": RUN is not supported');
  }
});
