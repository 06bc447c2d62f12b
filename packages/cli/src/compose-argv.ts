// No imports: bin/run.js loads this before oclif for every command.

/** The compose global flags docker accepts between `compose` and the command; they are moved after it. */
const GLOBAL_WITH_VALUE = new Set([
  '-f',
  '--file',
  '-p',
  '--project-name',
  '--profile',
  '--env-file',
  '--project-directory',
]);

const LONG: Record<string, string> = { '-f': '--file', '-p': '--project-name' };

/**
 * `compose -f a.yml -p x up -d` → `compose up --file a.yml --project-name x -d`: oclif flags belong to a
 * command, and after it the short names may mean something else (`logs -f` is --follow).
 */
export function hoistComposeGlobals(argv: string[]): string[] {
  if (argv[0] !== 'compose') return argv;
  const globals: string[] = [];
  let i = 1;
  while (i < argv.length && argv[i].startsWith('-')) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    const long = LONG[name] ?? name;
    if (eq >= 0) globals.push(`${long}${a.slice(eq)}`);
    else if (GLOBAL_WITH_VALUE.has(name) && i + 1 < argv.length) globals.push(long, argv[++i]);
    else if (/^-[fp]./.test(a)) globals.push(LONG[a.slice(0, 2)], a.slice(2));
    else globals.push(a);
    i++;
  }
  if (!globals.length || i >= argv.length) return argv;
  return ['compose', argv[i], ...globals, ...argv.slice(i + 1)];
}
