/** Phase 4 for `ports` and `volumes`: short syntaxes parsed to the long one, long ones checked. */
import { isIP } from 'node:net';
import type { NormalizeContext } from './layer-types.js';
import { type Report, copyExtensions, toBool, toBytes, toInt, toStringMap } from './normalize-values.js';
import { type ComposePort, PortSyntaxError, parseShortPort } from './ports.js';
import type { RawService } from './schema.js';
import { type ComposeVolumeMount, VolumeSyntaxError, parseShortVolume, resolveHostPath } from './volumes.js';

export function normalizePorts(
  ports: NonNullable<RawService['ports']>,
  report: Report,
  path: (string | number)[],
): ComposePort[] {
  const out: ComposePort[] = [];
  ports.forEach((p, i) => {
    if (typeof p === 'string' || typeof p === 'number') {
      try {
        out.push(...parseShortPort(p));
      } catch (e) {
        if (!(e instanceof PortSyntaxError)) throw e;
        report([...path, i], e.message, e.hint);
      }
      return;
    }
    if (p.target === undefined) {
      report([...path, i, 'target'], 'is required');
      return;
    }
    const target = toInt(p.target, report, [...path, i, 'target']);
    if (Number.isInteger(target) && (target < 1 || target > 65535)) {
      report([...path, i, 'target'], `port ${target} is outside 1-65535`);
    }
    const port: ComposePort = { mode: p.mode ?? 'ingress', target, protocol: (p.protocol ?? 'tcp').toLowerCase() };
    if (p.name !== undefined) port.name = p.name;
    if (p.host_ip !== undefined) {
      if (isIP(p.host_ip) === 0) report([...path, i, 'host_ip'], `${JSON.stringify(p.host_ip)} is not an IP address`);
      port.host_ip = p.host_ip;
    }
    if (p.published !== undefined && p.published !== '') {
      const published = String(p.published);
      if (!/^\d+(-\d+)?$/.test(published)) {
        report([...path, i, 'published'], `${JSON.stringify(published)} is not a port or a port range`);
      }
      port.published = published;
    }
    if (!['tcp', 'udp', 'sctp'].includes(port.protocol)) {
      report([...path, i, 'protocol'], `must be one of tcp, udp, sctp (got ${JSON.stringify(p.protocol)})`);
    }
    if (p.app_protocol !== undefined) port.app_protocol = p.app_protocol;
    copyExtensions(port, p);
    out.push(port);
  });
  return out;
}

export function normalizeVolumes(
  volumes: NonNullable<RawService['volumes']>,
  ctx: NormalizeContext,
  path: (string | number)[],
): ComposeVolumeMount[] {
  const { report } = ctx;
  const out: ComposeVolumeMount[] = [];
  volumes.forEach((v, i) => {
    const at = [...path, i];
    if (typeof v === 'string') {
      try {
        out.push(parseShortVolume(v, ctx.baseDir));
      } catch (e) {
        if (!(e instanceof VolumeSyntaxError)) throw e;
        report(at, e.message, e.hint);
      }
      return;
    }
    if (v.target === undefined) {
      report([...at, 'target'], 'is required');
      return;
    }
    if (!v.target.startsWith('/') && v.type !== 'npipe') {
      report([...at, 'target'], `${JSON.stringify(v.target)} is not an absolute path`);
    }
    const m: ComposeVolumeMount = { type: v.type, target: v.target };
    if (v.source !== undefined && v.source !== '') {
      m.source = v.type === 'bind' ? resolveHostPath(v.source, ctx.baseDir) : v.source;
    } else if (v.type === 'bind') {
      report([...at, 'source'], 'is required for a bind mount');
    }
    if (v.source && v.type === 'tmpfs') report([...at, 'source'], 'is not allowed for a tmpfs mount');
    if (v.read_only !== undefined && toBool(v.read_only, report, [...at, 'read_only'])) m.read_only = true;
    if (v.consistency !== undefined) m.consistency = v.consistency;
    if (v.bind) {
      if (v.type !== 'bind') report([...at, 'bind'], `applies to bind mounts, not ${v.type}`);
      const { create_host_path, ...rest } = v.bind;
      m.bind = { ...rest };
      if (create_host_path !== undefined) {
        m.bind.create_host_path = toBool(create_host_path, report, [...at, 'bind', 'create_host_path']);
      }
    }
    if (v.volume) {
      if (v.type !== 'volume') report([...at, 'volume'], `applies to volumes, not ${v.type}`);
      const vol: NonNullable<ComposeVolumeMount['volume']> = {};
      if (v.volume.nocopy !== undefined) vol.nocopy = toBool(v.volume.nocopy, report, [...at, 'volume', 'nocopy']);
      if (v.volume.subpath !== undefined) vol.subpath = v.volume.subpath;
      if (v.volume.labels !== undefined) vol.labels = toStringMap(v.volume.labels, report, [...at, 'volume', 'labels']);
      m.volume = vol;
    }
    if (v.tmpfs) {
      if (v.type !== 'tmpfs') report([...at, 'tmpfs'], `applies to tmpfs mounts, not ${v.type}`);
      const t: NonNullable<ComposeVolumeMount['tmpfs']> = {};
      if (v.tmpfs.size !== undefined) t.size = toBytes(v.tmpfs.size, report, [...at, 'tmpfs', 'size']);
      if (v.tmpfs.mode !== undefined) {
        t.mode = typeof v.tmpfs.mode === 'number' ? v.tmpfs.mode : Number.parseInt(v.tmpfs.mode, 8);
      }
      m.tmpfs = t;
    }
    if (v.image) m.image = { ...v.image };
    copyExtensions(m, v);
    out.push(m);
  });
  return out;
}
