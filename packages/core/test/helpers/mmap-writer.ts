/**
 * A static program that writes a file only through a shared mapping and exits without msync, so
 * its bytes sit in the guest's page cache until something flushes that filesystem: what a test of
 * the VM's end-of-run flush needs (a plain write() reaches a 9p or virtio-fs share at once).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../../src/process.js';

const SOURCE = `#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	size_t n = argc == 3 ? strtoul(argv[2], NULL, 10) : 0;
	int fd = argc == 3 ? open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644) : -1;
	unsigned char *p;

	if (fd < 0 || n == 0 || ftruncate(fd, n) < 0)
		return 1;
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 2;
	for (size_t i = 0; i < n; i++)
		p[i] = 'a' + i % 26;
	return 0; /* no msync, no munmap: the kernel keeps the pages dirty */
}
`;

/** The bytes the program writes to a file of `sizeBytes`. */
export function mmapWriterContent(sizeBytes: number): Buffer {
  const b = Buffer.alloc(sizeBytes);
  for (let i = 0; i < sizeBytes; i++) b[i] = 97 + (i % 26);
  return b;
}

/** Builds the program (musl-gcc, as kestrel) into `dir`; run it as `mmap-writer FILE SIZE`. */
export async function buildMmapWriter(dir: string): Promise<string> {
  const src = join(dir, 'mmap-writer.c');
  const out = join(dir, 'mmap-writer');
  await writeFile(src, SOURCE);
  await runCommand('musl-gcc', ['-static', '-Os', '-o', out, src], { packageHint: 'musl-tools' });
  return out;
}
