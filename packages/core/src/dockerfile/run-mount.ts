/**
 * `RUN --mount=…` as BuildKit reads it: a CSV record of `key=value` fields (`ro`, `rw`, `required`
 * may stand alone), one handler per key. bind mounts are read-only unless `rw`; cache mounts are
 * shared unless told otherwise; bind, cache and tmpfs need a target.
 */
import { failAt } from './flags.js';
import type { DockerfileRunMount } from './instruction-types.js';
import type { DockerfileNode } from './parser.js';

/** What a field handler gets: the field as written, its key and value, and how to fail. */
interface Field {
  text: string;
  key: string;
  value: string | undefined;
  fail: (message: string, hint?: string) => never;
}

function need(f: Field): string {
  if (f.value === undefined) f.fail(`invalid field '${f.text}' must be a key=value pair`);
  return f.value;
}

function num(f: Field): number {
  const v = need(f);
  if (!/^\d+$/.test(v)) f.fail(`invalid value for ${f.key}: ${v}`);
  return f.key === 'mode' ? Number.parseInt(v, 8) : Number.parseInt(v, 10);
}

function bool(f: Field): boolean {
  if (f.value === undefined) return true;
  if (!/^(true|false|1|0)$/i.test(f.value)) f.fail(`invalid value for ${f.key}: ${f.value}`);
  return /^(true|1)$/i.test(f.value);
}

function oneOf<T extends string>(f: Field, allowed: readonly T[], what: string): T {
  const v = need(f);
  if (!(allowed as readonly string[]).includes(v)) f.fail(`unsupported ${what} "${v}"`, `use ${allowed.join(', ')}`);
  return v as T;
}

const MOUNT_TYPES = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'] as const;
const SHARING = ['shared', 'private', 'locked'] as const;

/** Each key's effect on the mount; `readOnlySet` records an explicit ro/rw. */
type Handler = (m: DockerfileRunMount, f: Field, state: { readOnlySet: boolean }) => void;

const HANDLERS: Record<string, Handler> = {
  type: (m, f, state) => {
    m.type = oneOf(f, MOUNT_TYPES, 'mount type');
    if (!state.readOnlySet) m.readOnly = m.type === 'bind';
  },
  target: (m, f) => {
    m.target = need(f);
  },
  source: (m, f) => {
    m.source = need(f);
  },
  from: (m, f) => {
    m.from = need(f);
  },
  id: (m, f) => {
    m.id = need(f);
  },
  sharing: (m, f) => {
    m.sharing = oneOf(f, SHARING, 'sharing value');
  },
  mode: (m, f) => {
    m.mode = num(f);
  },
  uid: (m, f) => {
    m.uid = num(f);
  },
  gid: (m, f) => {
    m.gid = num(f);
  },
  required: (m, f) => {
    m.required = bool(f);
  },
  ro: (m, f, state) => {
    m.readOnly = bool(f);
    state.readOnlySet = true;
  },
  rw: (m, f, state) => {
    m.readOnly = !bool(f);
    state.readOnlySet = true;
  },
  size: (m, f) => {
    m.sizeBytes = num(f);
  },
  env: (m, f) => {
    m.env = need(f);
  },
};
HANDLERS.dst = HANDLERS.target;
HANDLERS.destination = HANDLERS.target;
HANDLERS.src = HANDLERS.source;
HANDLERS.readonly = HANDLERS.ro;
HANDLERS.readwrite = HANDLERS.rw;

/** Parses one `--mount` value (already expanded). */
export function parseMount(spec: string, node: DockerfileNode, file: string | undefined): DockerfileRunMount {
  const mount: DockerfileRunMount = { type: 'bind', readOnly: true };
  const state = { readOnlySet: false };
  for (const text of splitCsv(spec)) {
    const eq = text.indexOf('=');
    const key = (eq < 0 ? text : text.slice(0, eq)).trim().toLowerCase();
    const field: Field = {
      text,
      key,
      value: eq < 0 ? undefined : text.slice(eq + 1),
      fail: (message, hint) => failAt(node, file, 'DOCKERFILE_BAD_MOUNT', message, hint),
    };
    const handler = Object.hasOwn(HANDLERS, key) ? HANDLERS[key] : undefined;
    if (!handler) field.fail(`unexpected key '${key}' in '${text}'`);
    handler(mount, field, state);
  }
  if ((mount.type === 'bind' || mount.type === 'cache' || mount.type === 'tmpfs') && !mount.target) {
    failAt(node, file, 'DOCKERFILE_BAD_MOUNT', `--mount=type=${mount.type} requires a target`, 'add target=/path');
  }
  if (mount.type === 'cache' && mount.sharing === undefined) mount.sharing = 'shared';
  return mount;
}

/** Splits a --mount value on commas outside double quotes (a CSV record, as BuildKit reads it). */
function splitCsv(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      if (quoted && text[i + 1] === '"') {
        cur += '"';
        i++;
      } else quoted = !quoted;
    } else if (ch === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.filter((f) => f.length > 0);
}
