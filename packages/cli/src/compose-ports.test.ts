import { create } from '@bufbuild/protobuf';
import { StackPublisherSchema } from '@hypr/api';
import { expect, test } from 'vitest';
import { portsColumn, publishedAddress } from './compose-ports.js';

const pub = (url: string, publishedPort: number, targetPort: number, protocol = 'tcp') =>
  create(StackPublisherSchema, { url, publishedPort, targetPort, protocol });

test('ps shows published ports as docker compose does', () => {
  expect(portsColumn([pub('0.0.0.0', 8000, 8000)])).toBe('0.0.0.0:8000->8000/tcp');
  expect(portsColumn([pub('127.0.0.1', 5353, 53, 'udp'), pub('0.0.0.0', 8080, 80)])).toBe(
    '127.0.0.1:5353->53/udp, 0.0.0.0:8080->80/tcp',
  );
  expect(portsColumn([pub('::1', 80, 80)])).toBe('[::1]:80->80/tcp');
  expect(portsColumn([])).toBe('');
});

test('port finds the host address of a container port and protocol', () => {
  const list = [pub('0.0.0.0', 8080, 80), pub('0.0.0.0', 5353, 53, 'udp')];
  expect(publishedAddress(list, 80, 'tcp')).toBe('0.0.0.0:8080');
  expect(publishedAddress(list, 53, 'udp')).toBe('0.0.0.0:5353');
  expect(publishedAddress(list, 53, 'tcp')).toBeUndefined();
});
