import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ExitInfo, ScriptProcess } from '../../../src/cri/mock/process.js';
import { compileArgv, compileScript, parseDuration } from '../../../src/cri/mock/programs.js';

describe('mock programs: compiling a command line', () => {
  it.each([
    ['echo hello world', [{ kind: 'echo', text: 'hello world\n', stream: 'stdout' }]],
    ['echo -n x', [{ kind: 'echo', text: 'x', stream: 'stdout' }]],
    ['echo "a  b" \'c d\'', [{ kind: 'echo', text: 'a  b c d\n', stream: 'stdout' }]],
    ['echo oops >&2', [{ kind: 'echo', text: 'oops\n', stream: 'stderr' }]],
    ['sleep 1.5', [{ kind: 'sleep', seconds: 1.5 }]],
    ['sleep infinity', [{ kind: 'sleep', seconds: Number.POSITIVE_INFINITY }]],
    ['exit 3', [{ kind: 'exit', code: 3 }]],
    ['exit', [{ kind: 'exit', code: null }]],
    ['true', [{ kind: 'status', code: 0 }]],
    ['false', [{ kind: 'status', code: 1 }]],
    ['trap "" TERM', [{ kind: 'trap', action: { kind: 'ignore' } }]],
    ['trap - TERM', [{ kind: 'trap', action: { kind: 'default' } }]],
    ['trap "echo bye" INT', [{ kind: 'status', code: 0 }]],
    ['httpd -f -p 8080', [{ kind: 'forever', argv: ['httpd', '-f', '-p', '8080'] }]],
  ])('%s', (script, commands) => {
    const compiled = compileScript(script);
    expect(compiled.map((s) => s.first)).toEqual(commands);
  });

  it('splits statements on ; and newlines, chains && and ||, and marks & as background', () => {
    const s = compileScript('false && echo a || echo b; sleep 5 &\nwait');
    expect(s).toHaveLength(3);
    expect(s[0]?.rest.map((r) => r.op)).toEqual(['&&', '||']);
    expect(s[1]).toMatchObject({ first: { kind: 'sleep', seconds: 5 }, background: true });
    expect(s[2]?.first).toEqual({ kind: 'wait' });
  });

  it('parses a trap action as a script', () => {
    const [st] = compileScript("trap 'echo bye; exit 143' TERM");
    expect(st?.first).toMatchObject({ kind: 'trap', action: { kind: 'run' } });
  });

  it('expands $VAR and braced VAR from the env, not inside single quotes', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a JS template
    const s = compileScript('echo $A "${B}x" \'$A\'', { A: '1', B: '2' });
    expect(s[0]?.first).toEqual({ kind: 'echo', text: '1 2x $A\n', stream: 'stdout' });
  });

  it('treats syntax it does not model as a process that runs until stopped', () => {
    for (const script of ['echo a | cat', 'if true; then echo; fi', 'echo $(date)', '(sleep 1)']) {
      expect(compileScript(script).map((s) => s.first.kind)).toEqual(['forever']);
    }
  });

  it('compiles argv: sh -c, a bare sh (stdin or not), and exec-form commands', () => {
    expect(compileArgv(['/bin/sh', '-c', 'exit 4'])[0]?.first).toEqual({ kind: 'exit', code: 4 });
    expect(compileArgv(['sh', '-ec', 'true'])[0]?.first).toEqual({ kind: 'status', code: 0 });
    expect(compileArgv(['sh'])).toEqual([]);
    expect(compileArgv(['sh'], {}, true)[0]?.first.kind).toBe('forever');
    expect(compileArgv(['sleep', '3600'])[0]?.first).toEqual({ kind: 'sleep', seconds: 3600 });
    expect(compileArgv(['/bin/echo', 'a b'])[0]?.first).toEqual({
      kind: 'echo',
      text: 'a b\n',
      stream: 'stdout',
    });
    expect(compileArgv([])).toEqual([]);
  });

  it.each([
    ['10', 10],
    ['0.25', 0.25],
    ['2m', 120],
    ['1h', 3600],
    ['infinity', Number.POSITIVE_INFINITY],
    ['abc', null],
  ])('parseDuration(%s)', (arg, want) => {
    expect(parseDuration(arg)).toBe(want);
  });
});

describe('mock programs: running a script with PID-1 signal semantics', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function run(script: string, pid1 = true) {
    const out: string[] = [];
    const proc = new ScriptProcess(compileScript(script), {
      pid1,
      unknownCommands: 'run-forever',
      write: (stream, text) => out.push(`${stream}:${text}`),
    });
    let exit: ExitInfo | undefined;
    void proc.exited.then((e) => {
      exit = e;
    });
    proc.start();
    return { proc, out, exit: () => exit };
  }

  it('runs echo/sleep/exit on timers and exits with the code', async () => {
    const p = run('echo a; sleep 2; echo b; exit 3');
    await vi.advanceTimersByTimeAsync(0);
    expect(p.out).toEqual(['stdout:a\n']);
    expect(p.exit()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(p.out).toEqual(['stdout:a\n', 'stdout:b\n']);
    expect(p.exit()).toEqual({ code: 3, signal: null });
  });

  it('exits with the last status; && and || short-circuit', async () => {
    const p = run('false && echo no || echo yes; false');
    await vi.advanceTimersByTimeAsync(0);
    expect(p.out).toEqual(['stdout:yes\n']);
    expect(p.exit()?.code).toBe(1);
  });

  it('as PID 1 ignores an untrapped SIGTERM; SIGKILL ends it with 137', async () => {
    const p = run('sleep 3600');
    p.proc.signal('TERM');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(p.exit()).toBeUndefined();
    p.proc.signal('KILL');
    await vi.advanceTimersByTimeAsync(0);
    expect(p.exit()).toEqual({ code: 137, signal: 'KILL' });
  });

  it('not PID 1: an untrapped SIGTERM kills it (143)', async () => {
    const p = run('sleep 3600', false);
    p.proc.signal('TERM');
    await vi.advanceTimersByTimeAsync(0);
    expect(p.exit()).toEqual({ code: 143, signal: 'TERM' });
  });

  it('a trapped TERM interrupts `wait` at once and runs the trap', async () => {
    const p = run('trap "echo bye; exit 42" TERM; sleep 3600 & wait');
    await vi.advanceTimersByTimeAsync(100);
    p.proc.signal('TERM');
    await vi.advanceTimersByTimeAsync(0);
    expect(p.out).toEqual(['stdout:bye\n']);
    expect(p.exit()).toEqual({ code: 42, signal: null });
  });

  it('a trapped TERM waits for the foreground command to end, like a shell', async () => {
    const p = run('trap "exit 42" TERM; sleep 5');
    await vi.advanceTimersByTimeAsync(100);
    p.proc.signal('TERM');
    await vi.advanceTimersByTimeAsync(3_900);
    expect(p.exit()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(p.exit()).toEqual({ code: 42, signal: null });
  });

  it('trap "" TERM ignores TERM even when not PID 1', async () => {
    const p = run('trap "" TERM; sleep 3600 & wait', false);
    p.proc.signal('TERM');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(p.exit()).toBeUndefined();
    p.proc.signal('KILL');
    await vi.advanceTimersByTimeAsync(0);
    expect(p.exit()?.code).toBe(137);
  });

  it('clears its timers when killed', async () => {
    const p = run('sleep 100 & sleep 200 & sleep 300');
    expect(vi.getTimerCount()).toBe(3);
    p.proc.signal('KILL');
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
