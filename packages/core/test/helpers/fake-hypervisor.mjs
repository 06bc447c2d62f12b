// A FAKE hypervisor for shim-supervisor.test.ts: started by hypr-shim as its hypervisor (V=node,
// v=this file, v=DIR, v=STEPS-JSON), it connects to the channel sockets shim.args lists, as QEMU
// does, and plays Kestrel on them: control lines, output, exec frames. What it receives (control
// lines, stdin, exec frames) goes to DIR/fake-seen.log, one line each, for the test to read.
//
// Steps, run in order: {out: CHANNEL, text | hex, repeat?} · {until: 'control', line} (a control
// line that starts with it) · {until: 'stdin', text} · {until: 'stdin-eof'} · {until: 'stdin-bytes',
// n} · {until: 'file', path} · {pause | resume: CHANNEL} (stop reading it) · {exec: true} (answer
// exec frames: echo, cat, sleep, fail) · {exists: PATH} (noted) · {console: TEXT} (append to K) · {say: TEXT} (own stderr,
// hence H) · {wait: MS} · {big: CHANNEL, lines, width} · {exit: CODE} · {kill: SIGNAL} · {hang: true}
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

const [dir, stepsJson] = process.argv.slice(2);
const steps = JSON.parse(stepsJson);
const seen = (line) => appendFileSync(join(dir, 'fake-seen.log'), `${line}\n`);
seen('started');

const args = {};
const channels = {};
for (const rec of readFileSync(join(dir, 'shim.args'), 'utf8').split('\0')) {
  if (rec[1] !== '=') continue;
  if (rec[0] === 'c') {
    const [name, path] = rec.slice(2).split('\t');
    channels[name] = path;
  } else args[rec[0]] = rec.slice(2);
}

const sockets = {};
await Promise.all(
  Object.entries(channels).map(
    ([name, path]) =>
      new Promise((resolve, reject) => {
        const s = connect(path, () => resolve());
        s.on('error', reject);
        sockets[name] = s;
      }),
  ),
);

let controlText = '';
const controlLines = [];
let stdinText = '';
let stdinEnded = false;
const wakers = new Set();
const wake = () => {
  for (const w of wakers) w();
};
const until = async (pred) => {
  while (!pred()) await new Promise((r) => wakers.add(r)).then(() => wakers.clear());
};

sockets.control?.on('data', (b) => {
  controlText += b.toString('utf8');
  let nl = controlText.indexOf('\n');
  while (nl >= 0) {
    const line = controlText.slice(0, nl);
    controlLines.push(line);
    seen(`control ${line}`);
    controlText = controlText.slice(nl + 1);
    nl = controlText.indexOf('\n');
  }
  wake();
});
let stdinBytes = 0;
sockets.stdin?.on('data', (b) => {
  stdinBytes += b.length;
  if (stdinBytes <= 4096) {
    stdinText += b.toString('utf8');
    seen(`stdin ${b.toString('hex')}`);
  }
  wake();
});
sockets.stdin?.on('end', () => {
  stdinEnded = true;
  seen('stdin-eof');
  wake();
});

function frame(type, id, payload) {
  const p = Buffer.from(payload);
  const h = Buffer.from([type.charCodeAt(0), id, p.length >> 8, p.length & 255]);
  sockets.exec.write(Buffer.concat([h, p]));
}

// Exec sessions as Kestrel runs them: argv[0] picks the behaviour.
function serveExec() {
  let pending = Buffer.alloc(0);
  const sessions = new Map();
  sockets.exec.on('data', (b) => {
    pending = Buffer.concat([pending, b]);
    while (pending.length >= 4) {
      const n = pending.readUInt16BE(2);
      if (pending.length < 4 + n) break;
      const type = String.fromCharCode(pending[0]);
      const id = pending[1];
      const payload = pending.subarray(4, 4 + n);
      pending = pending.subarray(4 + n);
      seen(`exec ${type} ${id} ${payload.toString('utf8').replaceAll('\0', '|')}`);
      if (type === 'O') {
        const argv = payload
          .toString('utf8')
          .split('\0')
          .filter((r) => r.startsWith('A='))
          .map((r) => r.slice(2));
        sessions.set(id, argv[0]);
        if (argv[0] === 'fail') {
          frame('E', id, `${argv[0]}: not found`);
          frame('x', id, '127');
          continue;
        }
        frame('P', id, String(100 + id));
        if (argv[0] === 'echo') {
          frame('o', id, `${argv.slice(1).join(' ')}\n`);
          frame('e', id, `session ${id}\n`);
          frame('x', id, '0');
        }
      } else if (type === 'I' && sessions.get(id) === 'cat') frame('o', id, payload);
      else if (type === 'C' && sessions.get(id) === 'cat') frame('x', id, '0');
      else if (type === 'S') frame('x', id, '137');
    }
  });
}

const bytes = (step) => (step.hex ? Buffer.from(step.hex, 'hex') : Buffer.from(step.text ?? ''));

async function endAll() {
  await Promise.all(
    Object.values(sockets).map(
      (s) =>
        new Promise((resolve) => {
          if (s.destroyed) return resolve();
          s.once('close', resolve);
          s.end();
        }),
    ),
  );
}

for (const step of steps) {
  if (step.out) {
    for (let i = 0; i < (step.repeat ?? 1); i++) sockets[step.out].write(bytes(step));
  } else if (step.until === 'control') {
    await until(() => controlLines.some((l) => l.startsWith(step.line)));
  } else if (step.until === 'stdin') {
    await until(() => stdinText.includes(step.text));
  } else if (step.until === 'stdin-eof') {
    await until(() => stdinEnded);
  } else if (step.until === 'stdin-bytes') {
    await until(() => stdinBytes >= step.n);
    seen(`stdin-bytes ${stdinBytes}`);
  } else if (step.until === 'file') {
    while (!existsSync(step.path)) await new Promise((r) => setTimeout(r, 20));
  } else if (step.pause) {
    sockets[step.pause].pause();
  } else if (step.resume) {
    sockets[step.resume].resume();
  } else if (step.exec) {
    serveExec();
  } else if (step.exists) {
    seen(`exists ${step.exists} ${existsSync(step.exists)}`);
  } else if (step.console !== undefined) {
    appendFileSync(args.K, step.console);
  } else if (step.say !== undefined) {
    process.stderr.write(step.say);
  } else if (step.wait) {
    await new Promise((r) => setTimeout(r, step.wait));
  } else if (step.big) {
    // Numbered lines, so that the reader can tell a lost or reordered byte; written in 64 KiB
    // chunks, each handed to the kernel before the next. `big done` once all of it was.
    const width = step.width ?? 100;
    const s = sockets[step.big];
    let chunk = '';
    for (let i = 0; i < step.lines; i++) {
      chunk += `${String(i).padStart(8, '0')} ${'x'.repeat(width - 10)}\n`;
      if (chunk.length >= 65536 || i === step.lines - 1) {
        await new Promise((r) => s.write(chunk, r));
        chunk = '';
      }
    }
    seen('big done');
  } else if (step.exit !== undefined) {
    await endAll();
    process.exit(step.exit);
  } else if (step.kill) {
    process.kill(process.pid, step.kill);
  } else if (step.hang) {
    setInterval(() => {}, 1 << 30);
    await new Promise(() => {});
  }
}
await endAll();
process.exit(0);
