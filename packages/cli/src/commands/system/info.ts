import type { InfoResponse } from '@hypr/api';
import { bytesSize } from '@hypr/api/units';
import { Flags } from '@oclif/core';
import { renderTemplate } from '../../format/template.js';
import { HyprCommand } from '../../hypr-command.js';

export default class Info extends HyprCommand {
  static override summary = 'Display system-wide information';
  static override enableJsonFlag = true;
  static override flags = { format: Flags.string({ char: 'f', summary: 'Format output using a custom template' }) };

  async run(): Promise<Record<string, unknown>> {
    const { flags } = await this.parseArgs<{ format?: string }, Record<string, never>>(Info);
    const i: InfoResponse = await this.client.system.info({});
    const doc = {
      ServerVersion: i.serverVersion,
      Containers: i.containers,
      ContainersRunning: i.containersRunning,
      ContainersPaused: i.containersPaused,
      ContainersStopped: i.containersStopped,
      Images: i.images,
      Name: i.name,
      APIVersion: i.apiVersion,
      Hypervisor: i.adapter,
      HypervisorBinary: i.hypervisor,
      HypervisorVersion: i.hypervisorVersion,
      Accelerator: i.accelerator,
      AcceleratorReason: i.acceleratorReason,
      Runtime: i.runtime,
      KernelPath: i.kernelPath,
      KernelVersion: i.kernelVersion,
      KestrelPath: i.kestrelPath,
      KestrelVersion: i.kestrelVersion,
      DataRoot: i.dataRoot,
      Socket: `unix://${i.socket}`,
      HostKernelVersion: i.kernelVersionHost,
      OperatingSystem: i.operatingSystem,
      OSType: i.os,
      Architecture: i.architecture,
      NCPU: i.cpus,
      MemTotal: Number(i.memoryBytes),
      DefaultCPUs: i.defaultCpus,
      DefaultMemory: Number(i.defaultMemoryBytes),
      Dependencies: i.dependencies.map((d) => ({ Name: d.name, Required: d.required, OK: d.ok, Detail: d.detail })),
      Warnings: i.warnings,
    };
    if (this.jsonEnabled()) return doc;
    if (flags.format) {
      this.out(renderTemplate(flags.format, doc));
      return doc;
    }
    this.out(
      [
        'Server:',
        ` Containers: ${i.containers}`,
        `  Running: ${i.containersRunning}`,
        `  Paused: ${i.containersPaused}`,
        `  Stopped: ${i.containersStopped}`,
        ` Images: ${i.images}`,
        ` Server Version: ${i.serverVersion}`,
        ` API Version: ${i.apiVersion}`,
        ` Hypervisor: ${i.adapter}${i.hypervisorVersion ? ` (${i.hypervisorVersion})` : ''}`,
        ` Accelerator: ${i.accelerator} (${i.acceleratorReason})`,
        ` Runtime: ${i.runtime}`,
        ` Guest Kernel: ${i.kernelVersion} (${i.kernelPath})`,
        ` Kestrel: ${i.kestrelVersion} (${i.kestrelPath})`,
        ` Kernel Version: ${i.kernelVersionHost}`,
        ` Operating System: ${i.operatingSystem}`,
        ` OSType: ${i.os}`,
        ` Architecture: ${i.architecture}`,
        ` CPUs: ${i.cpus}`,
        ` Total Memory: ${bytesSize(Number(i.memoryBytes))}`,
        ` Default Container Resources: ${i.defaultCpus} CPUs, ${bytesSize(Number(i.defaultMemoryBytes))} (a VM each)`,
        ` Name: ${i.name}`,
        ` HYPR Root Dir: ${i.dataRoot}`,
        ` Socket: unix://${i.socket}`,
      ].join('\n'),
    );
    // As docker info: each warning on stderr after the table, so scripts reading stdout are not disturbed.
    for (const w of i.warnings) process.stderr.write(`WARNING: ${w}\n`);
    return doc;
  }
}
