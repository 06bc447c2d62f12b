import { expect, test } from 'vitest';
import { FeedRestartedError, LayerFeed } from './layer-feed.js';

const bytes = (s: string) => Buffer.from(s);

async function readAll(feed: LayerFeed): Promise<string> {
  let out = '';
  for await (const c of feed) out += Buffer.from(c).toString();
  return out;
}

test('the reader gets the bytes in order, and the end once the blob is whole', async () => {
  const feed = new LayerFeed(2);
  const reading = readAll(feed);
  let at = 0;
  for (const s of ['ab', 'cd', 'ef', 'gh']) {
    await feed.write(bytes(s), at);
    at += s.length;
  }
  feed.end();
  expect(await reading).toBe('abcdefgh');
});

test('a download that starts the blob over ends the feed with FeedRestartedError', async () => {
  const feed = new LayerFeed();
  const reading = readAll(feed);
  await feed.write(bytes('abc'), 0);
  await feed.write(bytes('abc'), 0); // the registry ignored the range: byte 0 again
  await expect(reading).rejects.toBeInstanceOf(FeedRestartedError);
});

test('a resumed download (the next byte) goes on feeding the reader', async () => {
  const feed = new LayerFeed();
  const reading = readAll(feed);
  await feed.write(bytes('abc'), 0);
  await feed.write(bytes('def'), 3);
  feed.end();
  expect(await reading).toBe('abcdef');
});

test('a failed download reaches the reader as its error', async () => {
  const feed = new LayerFeed();
  const reading = readAll(feed);
  await feed.write(bytes('abc'), 0);
  feed.end(new Error('connection reset'));
  await expect(reading).rejects.toThrow('connection reset');
});

test('once the reader has stopped, writes are dropped and never wait', async () => {
  const feed = new LayerFeed(1);
  const reader = (async () => {
    for await (const _ of feed) break; // one chunk, then the reader stops (a layer found bad)
  })();
  await feed.write(bytes('a'), 0);
  await reader;
  // with a queue of 1 and no reader, these would wait for ever if they were kept
  await feed.write(bytes('b'), 1);
  await feed.write(bytes('c'), 2);
  feed.end();
});
