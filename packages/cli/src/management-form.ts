// docker's management forms (`docker container ls`, `docker image rm` …) are the same commands under a
// topic. Each is a thin subclass of the top-level command: same flags, code and output; its own usage
// line and hidden aliases (`container list`, `container ps`).
import type { Command } from '@oclif/core';

type CommandClass = typeof Command & (new (...args: never[]) => Command & { run(): Promise<unknown> });

/** A subclass of `parent` shown as `hypr <form> …` in help, with docker's aliases for that form. */
export function managementForm<T extends CommandClass>(parent: T, form: string, aliases: string[] = []): T {
  const Parent = parent as unknown as new (...args: never[]) => Command & { run(): Promise<unknown> };
  const sub = class extends Parent {} as unknown as T;
  const usage = typeof parent.usage === 'string' ? parent.usage.replace(/^\S+/, form) : form;
  Object.assign(sub, { usage, aliases: aliases.map((a) => a.replace(/ /g, ':')) });
  return sub;
}
