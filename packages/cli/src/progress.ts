// Pull and push progress on stderr: one line per blob like docker's, redrawn in place on a TTY.
import { humanSize } from '@hypr/api/units';

interface Blob {
  status: string;
  doneBytes: number;
  totalBytes: number;
}

const WORDS: Record<string, string> = {
  exists: 'Already exists',
  downloading: 'Downloading',
  uploading: 'Pushing',
  mounted: 'Mounted from another repository',
  retrying: 'Retrying',
  done: 'Pull complete',
};

export class ProgressView {
  private readonly blobs = new Map<string, Blob>();
  private drawn = 0;
  private readonly tty: boolean;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly doneWord = 'Pull complete',
  ) {
    this.tty = Boolean(out.isTTY);
  }

  update(p: { digest: string; status: string; doneBytes: bigint; totalBytes: bigint; kind?: string }): void {
    // docker lists layers only: the image's config blob is not one.
    if (p.kind === 'config') return;
    const id = p.digest.replace(/^sha256:/, '').slice(0, 12);
    const prev = this.blobs.get(id);
    const blob = { status: p.status, doneBytes: Number(p.doneBytes), totalBytes: Number(p.totalBytes) };
    this.blobs.set(id, blob);
    if (this.tty) this.redraw();
    else if (!prev || prev.status !== blob.status) {
      if (blob.status !== 'downloading' && blob.status !== 'uploading') this.out.write(`${id}: ${this.word(blob)}\n`);
    }
  }

  private word(b: Blob): string {
    return b.status === 'done' ? this.doneWord : (WORDS[b.status] ?? b.status);
  }

  private line(id: string, b: Blob): string {
    if (b.status === 'downloading' || b.status === 'uploading') {
      const width = 40;
      const frac = b.totalBytes ? Math.min(1, b.doneBytes / b.totalBytes) : 0;
      const bar = `[${'='.repeat(Math.max(0, Math.floor(frac * width) - 1))}>${' '.repeat(width - Math.max(1, Math.floor(frac * width)))}]`;
      return `${id}: ${this.word(b)} ${bar} ${humanSize(b.doneBytes)}/${humanSize(b.totalBytes)}`;
    }
    return `${id}: ${this.word(b)}`;
  }

  private redraw(): void {
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A`);
    for (const [id, b] of this.blobs) this.out.write(`\x1b[2K${this.line(id, b)}\n`);
    this.drawn = this.blobs.size;
  }
}
