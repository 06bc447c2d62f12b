import { fileURLToPath } from 'node:url';
import { type Child, spawnChild } from '../../src/process.js';
import type { AgentConfig } from './netns-agent.js';

const TSX = fileURLToPath(new URL('../../../../node_modules/.bin/tsx', import.meta.url));
const AGENT = fileURLToPath(new URL('./netns-agent.ts', import.meta.url));

export interface RunningAgent {
  child: Child;
  dnsPort?: number;
  ports: { hostIp: string; hostPort: number; containerPort: number; protocol: string }[];
}

/** Starts netns-agent.ts inside `netns` and waits for its ready line. */
export async function startAgent(netns: string, config: AgentConfig): Promise<RunningAgent> {
  const child = spawnChild('ip', ['netns', 'exec', netns, TSX, AGENT, JSON.stringify(config)], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    killAfterMs: 2000,
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`agent did not start: ${child.stderrTail()}`)), 20_000);
    child.process.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    child.exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`agent exited: ${child.stderrTail()}`));
    }, reject);
  }).catch(async (e) => {
    await child.stop();
    throw e;
  });
  return { child, ...(JSON.parse(line) as Omit<RunningAgent, 'child'>) };
}
