import type { EventMessage } from '@hypr/api';
import { Flags } from '@oclif/core';
import { parseTimestamp } from '../docker-args.js';
import { renderTemplate } from '../format/template.js';
import { CliError, HyprCommand } from '../hypr-command.js';

/** docker's event time: RFC 3339 with nanoseconds. */
function eventTime(nano: bigint): string {
  const ms = Number(nano / 1_000_000n);
  return `${new Date(ms).toISOString().slice(0, 19)}.${(nano % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

export default class Events extends HyprCommand {
  static override summary = 'Get real time events from the daemon';
  static override usage = 'events [OPTIONS]';
  static override flags = {
    filter: Flags.string({
      char: 'f',
      summary: 'Filter output based on conditions provided (type, container, event, image)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    format: Flags.string({ summary: 'Format output using a custom template' }),
    since: Flags.string({ summary: 'Show recent events since timestamp (RFC 3339, unix seconds, or relative: 10m)' }),
    until: Flags.string({ summary: 'Stream events until this timestamp' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parseArgs<
      { filter?: string[]; format?: string; since?: string; until?: string },
      Record<string, never>
    >(Events);
    const nano = (text?: string) => {
      if (!text) return 0n;
      try {
        return BigInt(parseTimestamp(text)) * 1_000_000n;
      } catch (e) {
        throw new CliError((e as Error).message, 125);
      }
    };
    const sinceNano = nano(flags.since);
    const untilNano = nano(flags.until);
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      for await (const e of this.client.system.events(
        { filters: flags.filter ?? [], sinceNano, untilNano },
        { signal: abort.signal },
      ))
        this.out(this.render(e, flags.format));
    } catch (e) {
      if (!abort.signal.aborted) throw e;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  }

  private render(e: EventMessage, format?: string): string {
    const doc = {
      Type: e.type,
      Action: e.action,
      ID: e.id,
      Actor: { ID: e.id, Attributes: e.attributes },
      time: Number(e.timeNano / 1_000_000_000n),
      timeNano: Number(e.timeNano),
    };
    if (format) return renderTemplate(format, doc);
    const attrs = Object.entries(e.attributes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    return `${eventTime(e.timeNano)} ${e.type} ${e.action} ${e.id}${attrs ? ` (${attrs})` : ''}`;
  }
}
