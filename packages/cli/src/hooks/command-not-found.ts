// `hypr foo`: docker's words and exit status for a command that does not exist, with a did-you-mean.
import { suggest } from '@hypr/core/errors';
import type { Hook } from '@oclif/core';

const hook: Hook<'command_not_found'> = async function (opts) {
  const words = opts.id.split(':');
  const known = opts.config.commands.filter((c) => !c.hidden).map((c) => c.id.replace(/:/g, ' '));
  const guess = suggest(words.join(' '), known);
  process.stderr.write(
    `hypr: '${words.join(' ')}' is not a hypr command.\n${guess ? `hint: did you mean \`hypr ${guess}\`?\n` : ''}See 'hypr --help'\n`,
  );
  this.exit(1);
};

export default hook;
