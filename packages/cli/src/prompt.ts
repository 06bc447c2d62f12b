import { createInterface } from 'node:readline/promises';

/** docker's prune prompt: the warning, then "Are you sure you want to continue? [y/N]" on stderr. */
export async function confirm(warning: string): Promise<boolean> {
  process.stderr.write(`${warning}\n`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question('Are you sure you want to continue? [y/N] ').catch(() => '');
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}
