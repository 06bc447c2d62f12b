import type { DockerfileAst, DockerfileFlag, DockerfileNode } from './parser.js';

/**
 * Prints an AST back to Dockerfile text: one logical line per instruction (continuations joined),
 * heredoc bodies after their line. Parsing the output gives the same nodes (lines aside).
 */
export function printDockerfile(ast: Pick<DockerfileAst, 'directiveList' | 'nodes'>): string {
  let out = '';
  for (const d of ast.directiveList) out += `# ${d.name}=${d.value}\n`;
  for (const node of ast.nodes) out += printNode(node);
  return out;
}

function quoteFlagValue(value: string): string {
  if (value !== '' && !/[\s"'\\]/.test(value)) return value;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function printFlag(f: DockerfileFlag): string {
  return f.value === undefined ? `--${f.name}` : `--${f.name}=${quoteFlagValue(f.value)}`;
}

function printArgs(node: DockerfileNode): string {
  // The trigger as written: reprinting it would reformat its JSON (ONBUILD's argument is kept verbatim).
  if (node.keyword === 'ONBUILD' && node.trigger) return node.args[0] ?? printLine(node.trigger);
  if (node.pairs) {
    return node.legacy
      ? `${node.pairs[0].key} ${node.pairs[0].value}`
      : node.pairs.map((p) => `${p.key}=${p.value}`).join(' ');
  }
  const args = node.json ? JSON.stringify(node.args) : node.args.join(' ');
  if (node.keyword === 'HEALTHCHECK') {
    const type = node.healthcheckTypeRaw ?? node.healthcheckType ?? '';
    return node.json || node.args.length > 0 ? `${type} ${args}` : type;
  }
  return args;
}

function printLine(node: DockerfileNode): string {
  const parts = [node.rawKeyword, ...node.flags.map(printFlag)];
  const args = printArgs(node);
  // Arguments that start like a flag follow BuildKit's `--` terminator, or they would parse as flags.
  if (args.startsWith('--')) parts.push('--');
  if (args !== '') parts.push(args);
  return parts.join(' ');
}

/** One instruction as text, with its heredoc bodies and terminators. */
export function printNode(node: DockerfileNode): string {
  let out = `${printLine(node)}\n`;
  for (const h of node.heredocs) out += `${h.content}${h.name}\n`;
  return out;
}
