/**
 * What a microVM cannot honour, per service: an error when running without it would break the
 * workload (host namespaces, host devices, GPUs, model runners, provider services), a warning when the
 * setting only tunes the host kernel or is already covered by the VM boundary. Keys HYPR never needs
 * for `up` (`develop`, which only `watch` reads) pass without a word.
 */
import type { ComposeService } from './types.js';

/** Checks each setting a microVM cannot honour; pushes warnings and errors. */
export function checkSupport(
  name: string,
  svc: ComposeService,
  warn: (p: string, m: string) => void,
  fail: (p: string, m: string) => void,
) {
  const at = (k: string) => `services.${name}.${k}`;
  const nm = svc.network_mode;
  if (nm === 'host')
    fail(at('network_mode'), 'network_mode: host shares the host network stack, which a microVM cannot do');
  else if (nm?.startsWith('service:') || nm?.startsWith('container:')) {
    fail(
      at('network_mode'),
      `network_mode: ${nm} shares another container's network stack, which separate microVMs cannot do`,
    );
  } else if (nm !== undefined && nm !== 'none' && nm !== 'bridge' && nm !== 'default') {
    warn(at('network_mode'), `network_mode: ${nm} is not known to HYPR; the service joins the default network`);
  }
  for (const k of ['pid', 'ipc', 'uts', 'userns_mode', 'cgroup'] as const) {
    const v = svc[k];
    if (v === 'host') {
      if (k === 'pid' || k === 'ipc')
        fail(at(k), `${k}: host shares a host namespace, which a microVM with its own kernel cannot do`);
      else warn(at(k), `${k}: host has no effect: the service runs in its own kernel`);
    } else if (typeof v === 'string' && (v.startsWith('service:') || v.startsWith('container:'))) {
      fail(at(k), `${k}: ${v} shares a namespace between services, which separate microVMs cannot do`);
    }
  }
  if (svc.privileged) {
    warn(
      at('privileged'),
      'privileged gives the workload every capability inside its own VM; host devices stay out of reach',
    );
  }
  if (svc.devices?.length) fail(at('devices'), 'host devices cannot be passed into a microVM');
  if (svc.gpus !== undefined) fail(at('gpus'), 'GPUs cannot be passed into a microVM');
  if (svc.deploy?.resources?.reservations?.devices)
    fail(at('deploy.resources.reservations.devices'), 'device reservations cannot be honoured in a microVM');
  if (svc.use_api_socket) fail(at('use_api_socket'), 'there is no Docker API socket to mount in a HYPR microVM');
  if (svc.provider !== undefined) {
    fail(
      at('provider'),
      `provider services (type ${svc.provider.type}) run a plugin of docker compose, not a container`,
    );
  }
  if (svc.models !== undefined) fail(at('models'), 'models need Docker Model Runner, which HYPR does not provide');
  if (svc.pre_start !== undefined) fail(at('pre_start'), 'pre_start init containers are not supported yet');
  svc.volumes?.forEach((v, i) => {
    if (v.type === 'npipe' || v.type === 'cluster' || v.type === 'image') {
      fail(`${at('volumes')}[${i}]`, `${v.type} mounts are not supported in a microVM`);
    }
    if (v.bind?.propagation || v.bind?.selinux) {
      warn(
        `${at('volumes')}[${i}]`,
        'bind propagation and SELinux relabelling do not apply to a shared directory of a VM; ignored',
      );
    }
  });
  svc.ports?.forEach((p, i) => {
    if (p.protocol === 'sctp') fail(`${at('ports')}[${i}]`, 'sctp ports cannot be published by HYPR (tcp and udp can)');
  });
  const ignored: [keyof ComposeService, string][] = [
    ['device_cgroup_rules', 'device cgroup rules have no effect: no host devices reach the VM'],
    ['cap_add', 'capabilities are not restricted inside the VM: the VM is the isolation boundary'],
    ['cap_drop', 'capabilities are not restricted inside the VM: the VM is the isolation boundary'],
    ['security_opt', 'security options (seccomp, AppArmor, SELinux) apply to host containers; ignored'],
    ['cgroup_parent', 'host cgroups do not apply to a VM; ignored'],
    ['runtime', 'the service always runs as a HYPR microVM; runtime ignored'],
    ['isolation', 'the service always runs as a HYPR microVM; isolation ignored'],
    ['cpu_shares', 'CPU shares are not applied; use cpus'],
    ['cpu_quota', 'CPU quota is not applied; use cpus'],
    ['cpu_period', 'CPU period is not applied; use cpus'],
    ['cpu_rt_period', 'real-time CPU scheduling is not applied'],
    ['cpu_rt_runtime', 'real-time CPU scheduling is not applied'],
    ['cpuset', 'CPU pinning is not applied'],
    ['cpu_count', 'cpu_count is not applied; use cpus'],
    ['cpu_percent', 'cpu_percent is not applied; use cpus'],
    ['mem_swappiness', 'the VM has no swap; ignored'],
    ['memswap_limit', 'the VM has no swap; ignored'],
    ['oom_kill_disable', "the OOM killer is the guest kernel's; ignored"],
    ['oom_score_adj', "the OOM score is the guest kernel's; ignored"],
    ['blkio_config', 'block IO limits are not applied'],
    ['storage_opt', 'storage options are not applied'],
    ['volumes_from', 'volumes_from is not supported yet; declare the volumes on this service'],
    ['links', 'links are not needed: services reach each other by name on their networks'],
    ['external_links', 'external_links are not supported'],
    ['post_start', 'lifecycle hooks are not supported yet'],
    ['pre_stop', 'lifecycle hooks are not supported yet'],
    ['credential_spec', 'credential specs are Windows-only; ignored'],
    ['mac_address', 'MAC addresses are assigned by HYPR; ignored'],
  ];
  for (const [k, m] of ignored) if (svc[k] !== undefined && svc[k] !== false) warn(at(k as string), m);
  if (svc.logging?.driver && svc.logging.driver !== 'json-file' && svc.logging.driver !== 'local') {
    warn(at('logging.driver'), `logging driver ${svc.logging.driver} is not supported; HYPR keeps the logs itself`);
  }
  if (svc.deploy?.placement) warn(at('deploy.placement'), 'placement applies to swarm clusters; ignored');
}
