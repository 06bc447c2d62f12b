import { describe, expect, test } from 'vitest';
import { renderTemplate } from '../template.js';
import { TemplateError } from './error.js';

// A container as `docker inspect` shows it (trimmed).
const inspect = {
  Id: 'f2a6b3c4d5e6',
  Name: '/web',
  Args: ['-g', 'daemon off;'],
  State: { Status: 'running', Running: true, Paused: false, ExitCode: 0, Pid: 4242, Health: null },
  Config: {
    Hostname: 'f2a6b3c4d5e6',
    Env: ['PATH=/usr/bin', 'NGINX_VERSION=1.25'],
    Labels: { tier: 'web', team: 'core' },
  },
  NetworkSettings: {
    Networks: {
      bridge: { IPAddress: '172.17.0.2', MacAddress: '02:42:ac:11:00:02' },
      backend: { IPAddress: '10.0.0.5', MacAddress: '02:42:0a:00:00:05' },
    },
    Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] },
  },
  Mounts: [],
  LogPath: '',
};

const render = (tpl: string, data: unknown = inspect) => renderTemplate(tpl, data, { missingKey: 'zero' });

describe("docker's documented --format examples", () => {
  test.each([
    ['{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', '10.0.0.5172.17.0.2'],
    ['{{range .NetworkSettings.Networks}}{{.MacAddress}} {{end}}', '02:42:0a:00:00:05 02:42:ac:11:00:02 '],
    ['{{if .State.Running}}up{{else}}down{{end}}', 'up'],
    ['{{json .Config.Labels}}', '{"tier":"web","team":"core"}'],
    ['{{join .Args " "}}', '-g daemon off;'],
    ['{{.Name}}', '/web'],
    ['{{.State.Pid}}', '4242'],
    [
      '{{range $p, $conf := .NetworkSettings.Ports}} {{$p}} -> {{(index $conf 0).HostPort}} {{end}}',
      ' 80/tcp -> 8080 ',
    ],
    ['{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}', '8080'],
    ['{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}', 'team=core;tier=web;'],
    ['{{.Config.Labels.tier}}', 'web'],
    ['{{index .Config.Labels "team"}}', 'core'],
    ['{{upper .State.Status}} {{lower "ABC"}} {{title "hello world"}}', 'RUNNING abc Hello World'],
    ['{{split "a,b,c" ","}}', '[a b c]'],
    ['{{len .Config.Env}}', '2'],
    ['{{range .Config.Env}}{{println .}}{{end}}', 'PATH=/usr/bin\nNGINX_VERSION=1.25\n'],
    ['{{printf "%s is %d" .Name .State.Pid}}', '/web is 4242'],
    ['{{printf "%-6s|%5.1f|%03d|%q|%v|%x" "ab" 3.14159 7 "q" .Args 255}}', 'ab    |  3.1|007|"q"|[-g daemon off;]|ff'],
    ['{{with .State}}{{.Status}}/{{.ExitCode}}{{end}}', 'running/0'],
    ['{{with .State.Health}}{{.Status}}{{else}}no healthcheck{{end}}', 'no healthcheck'],
    ['{{.State.Health}}', '<nil>'],
    ['{{.State.Nope}}', '<no value>'],
    ['{{range .Mounts}}{{.Source}}{{else}}none{{end}}', 'none'],
  ])('%s', (tpl, out) => expect(render(tpl)).toBe(out));
});

describe('Go text/template semantics', () => {
  test.each([
    ['{{if eq .State.Status "exited"}}x{{else if eq .State.Status "running"}}r{{else}}?{{end}}', 'r'],
    ['{{if and .State.Running (not .State.Paused)}}live{{end}}', 'live'],
    ['{{or .LogPath "none"}}', 'none'],
    ['{{and 1 0 2}}|{{or 0 "" 3}}', '0|3'],
    [
      '{{if lt 1 2}}a{{end}}{{if le 2 2}}b{{end}}{{if gt 3 2}}c{{end}}{{if ge 2 3}}d{{end}}{{if ne 1 2}}e{{end}}',
      'abce',
    ],
    ['{{eq .State.Status "paused" "running"}}', 'true'],
    ['{{$n := .Name}}{{$n}}{{$n = "x"}}{{$n}}', '/webx'],
    ['{{range $i, $e := .Args}}{{$i}}:{{$e}} {{end}}', '0:-g 1:daemon off; '],
    ['{{range .Args}}{{$.Name}}{{end}}', '/web/web'],
    ['{{range .Args}}{{if eq . "-g"}}{{continue}}{{end}}{{.}}{{end}}', 'daemon off;'],
    ['{{range .Args}}{{.}}{{break}}{{end}}', '-g'],
    ['{{range 3}}{{.}}{{end}}', '012'],
    ['{{.Name | printf "%s!" | upper}}', '/WEB!'],
    ['{{index .Args 1 | len}}', '11'],
    ['{{slice .Name 1 3}}', 'we'],
    ['{{- " a " -}} {{- "b"}}  {{- /* a comment */ -}}  c', ' a bc'],
    ['{{print 1 2 "x" 3}}', '1 2x3'],
    ['{{`raw`}} {{"\\"q\\""}}', 'raw "q"'],
    ['{{"\\u00e9\\x41"}}', 'éA'],
    ['{{0x1F}} {{1e3}} {{-2}} {{true}} {{nil | print}}', '31 1000 -2 true <nil>'],
    ['{{pad "x" 1 2}}|{{truncate "abcdef" 3}}', ' x  |abc'],
    ['{{html "<a>"}} {{urlquery "a b"}} {{js "it\'s"}}', "&lt;a&gt; a%20b it\\'s"],
    ['{{json .}}', JSON.stringify(inspect)],
  ])('%s', (tpl, out) => expect(render(tpl)).toBe(out));

  test('methods of row types take arguments, also piped', () => {
    const row = { Label: (k: string) => `<${k}>`, Names: 'web' };
    expect(renderTemplate('{{.Label "a"}} {{"b" | .Label}}', row)).toBe('<a> <b>');
  });

  test('a missing field is an error on docker rows, "<no value>" on inspect documents', () => {
    expect(() => renderTemplate('{{.Nope}}', { Names: 'x' })).toThrow(/can't evaluate field Nope in type map/);
    expect(render('{{.Nope}}')).toBe('<no value>');
  });
});

describe('errors carry the position', () => {
  test.each([
    ['{{.Names}', 'template: :1:1: unclosed action'],
    ['ab\n{{frob .X}}', 'template: :2:3: function "frob" not defined'],
    ['{{if .X}}x', 'template: :1:3: unexpected EOF: {{if}} has no {{end}}'],
    ['{{end}}', 'template: :1:1: unexpected {{end}}'],
    ['{{$x}}', 'template: :1:3: undefined variable "$x"'],
    ['{{break}}', 'template: :1:3: {{break}} outside {{range}}'],
    ['{{}}', 'template: :1:1: missing value for command'],
    ['{{(1}}', 'template: :1:3: unclosed left paren'],
    ['{{"abc}}', 'template: :1:3: unterminated quoted string'],
    ['{{index .Args 5}}', 'template: :1:3: executing at <index>: error calling index: index out of range: 5'],
    ['{{len 3}}', 'template: :1:3: executing at <len>: error calling len: len of type int'],
    ['{{range .Name}}{{end}}', "template: :1:3: executing at <range>: range can't iterate over /web"],
    ['{{.Name.First}}', "template: :1:3: executing at <.Name.First>: can't evaluate field First in type string"],
    ['{{lt 1 "a"}}', 'template: :1:3: executing at <lt>: error calling lt: incompatible types for comparison'],
    ['{{len}}', 'template: :1:3: executing at <len>: wrong number of args for len: want 1 got 0'],
    ['{{"x" 1}}', 'template: :1:3: executing at <"x">: can\'t give argument to non-function "x"'],
  ])('%j', (tpl, message) => {
    let err: unknown;
    try {
      render(tpl);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as Error).message).toBe(message);
  });

  test('syntax and execution errors have their own codes', () => {
    expect(() => render('{{if}}')).toThrow(expect.objectContaining({ code: 'TEMPLATE_SYNTAX', line: 1, column: 3 }));
    expect(() => render('{{index .Args 9}}')).toThrow(expect.objectContaining({ code: 'TEMPLATE_EXECUTION' }));
  });
});
