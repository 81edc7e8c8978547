/**
 * A tiny shell: compiles a container's command line (or an exec's) into a Script the mock's
 * process runner executes with timers. Understood: `sh -c "<script>"` with `;`, newlines, `&&`,
 * `||` and `&`; `echo [-n] [-e] TEXT [>&2]`, `sleep N|Ns|Nm|infinity`, `exit [N]`, `true`,
 * `false`, `:`, `trap '<action>' TERM`, `trap '' TERM`, `trap - TERM`, `wait`, `cat PATH`,
 * `exec CMD`, `$VAR`/`${VAR}` from the container's env. Any other command, and any other syntax
 * (pipes, subshells, if/while/for), compiles to "runs until stopped".
 */

export type Stream = 'stdout' | 'stderr';

/** What the shell does on SIGTERM. */
export type TermAction = { kind: 'default' } | { kind: 'ignore' } | { kind: 'run'; script: Script };

export type Command =
  | { kind: 'echo'; text: string; stream: Stream }
  | { kind: 'sleep'; seconds: number }
  | { kind: 'exit'; code: number | null }
  | { kind: 'status'; code: number }
  | { kind: 'trap'; action: TermAction }
  | { kind: 'wait' }
  | { kind: 'cat'; paths: string[] }
  | { kind: 'error'; message: string; code: number }
  /** A command the mock cannot model: in a container it runs until stopped. */
  | { kind: 'forever'; argv: string[] };

export interface Statement {
  readonly first: Command;
  readonly rest: readonly { readonly op: '&&' | '||'; readonly cmd: Command }[];
  /** Ended by `&`: runs as a background job (only `sleep` and `forever` take time). */
  readonly background: boolean;
}

export type Script = readonly Statement[];

export type Env = Readonly<Record<string, string>>;

const SHELLS = new Set(['sh', 'ash', 'bash', 'dash']);
const UNSUPPORTED_WORDS = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'for',
  'while',
  'until',
  'do',
  'done',
  'case',
  'esac',
  '{',
  '}',
  'function',
]);

class Unsupported extends Error {
  override readonly name = 'Unsupported';
}

const forever = (argv: string[]): Script => [stmt({ kind: 'forever', argv })];

function stmt(first: Command, background = false): Statement {
  return { first, rest: [], background };
}

/**
 * Compiles an argv (the container's command + args, or an exec's cmd). `stdin` tells whether
 * the process has an open stdin: a bare `sh` with none reads EOF and exits 0.
 */
export function compileArgv(argv: readonly string[], env: Env = {}, stdin = false): Script {
  if (argv.length === 0) return [];
  const name = basename(argv[0] ?? '');
  if (SHELLS.has(name)) {
    const rest = argv.slice(1);
    const cIndex = rest.findIndex((a) => /^-[a-z]*c[a-z]*$/.test(a));
    if (cIndex >= 0) return compileScript(rest[cIndex + 1] ?? '', env);
    if (rest.length === 0 || rest.every((a) => a.startsWith('-'))) {
      return stdin ? forever([...argv]) : [];
    }
    return forever([...argv]);
  }
  return [stmt(toCommand([...argv], 'stdout'))];
}

/** Compiles a shell script (the text after `sh -c`). */
export function compileScript(script: string, env: Env = {}): Script {
  try {
    return parse(tokenize(script, env));
  } catch (err) {
    if (err instanceof Unsupported) return forever(['sh', '-c', script]);
    throw err;
  }
}

// ---- tokenizer ---------------------------------------------------------------------------------

type Token =
  | { kind: 'word'; value: string; quoted: boolean }
  | { kind: 'op'; value: ';' | '&&' | '||' | '&' | '\n' }
  | { kind: 'redirect'; fd: number; target: string };

function tokenize(src: string, env: Env): Token[] {
  const tokens: Token[] = [];
  let word = '';
  let inWord = false;
  let quoted = false;
  const flush = () => {
    if (inWord) tokens.push({ kind: 'word', value: word, quoted });
    word = '';
    inWord = false;
    quoted = false;
  };
  let i = 0;
  const expand = (): string => {
    // at src[i] === '$'
    const braced = src[i + 1] === '{';
    const m = braced
      ? /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(src.slice(i))
      : /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(src.slice(i));
    if (!m) {
      if (src[i + 1] === '(') throw new Unsupported('command substitution');
      i += 1;
      return '$';
    }
    i += m[0].length;
    return env[m[1] ?? ''] ?? '';
  };
  while (i < src.length) {
    const ch = src[i] ?? '';
    if (ch === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) throw new Unsupported('unterminated quote');
      word += src.slice(i + 1, end);
      inWord = true;
      quoted = true;
      i = end + 1;
    } else if (ch === '"') {
      i += 1;
      inWord = true;
      quoted = true;
      while (i < src.length && src[i] !== '"') {
        const c = src[i] ?? '';
        if (c === '\\' && i + 1 < src.length && '"\\$`\n'.includes(src[i + 1] ?? '')) {
          word += src[i + 1];
          i += 2;
        } else if (c === '$') {
          word += expand();
        } else if (c === '`') {
          throw new Unsupported('backticks');
        } else {
          word += c;
          i += 1;
        }
      }
      if (i >= src.length) throw new Unsupported('unterminated quote');
      i += 1;
    } else if (ch === '\\') {
      if (src[i + 1] === '\n') {
        i += 2;
      } else {
        word += src[i + 1] ?? '';
        inWord = true;
        i += 2;
      }
    } else if (ch === '$') {
      word += expand();
      inWord = true;
    } else if (ch === '`' || ch === '(' || ch === ')' || (ch === '|' && src[i + 1] !== '|')) {
      throw new Unsupported(`syntax ${ch}`);
    } else if (ch === '#' && !inWord) {
      while (i < src.length && src[i] !== '\n') i += 1;
    } else if (ch === '>' || ch === '<') {
      let fd = ch === '>' ? 1 : 0;
      if (inWord && !quoted && /^\d$/.test(word)) {
        fd = Number(word);
        word = '';
        inWord = false;
      }
      flush();
      i += src[i + 1] === '>' ? 2 : 1;
      let target = '';
      if (src[i] === '&') {
        const m = /^&(\d+|-)/.exec(src.slice(i));
        target = m ? m[0] : '&';
        i += target.length;
      } else {
        while (src[i] === ' ' || src[i] === '\t') i += 1;
        const m = /^[^\s;&|<>]+/.exec(src.slice(i));
        target = m ? m[0] : '';
        i += target.length;
      }
      tokens.push({ kind: 'redirect', fd, target });
    } else if (ch === ';' || ch === '\n') {
      flush();
      if (src[i + 1] === ';') throw new Unsupported(';;');
      tokens.push({ kind: 'op', value: ch });
      i += 1;
    } else if (ch === '&') {
      flush();
      if (src[i + 1] === '&') {
        tokens.push({ kind: 'op', value: '&&' });
        i += 2;
      } else {
        tokens.push({ kind: 'op', value: '&' });
        i += 1;
      }
    } else if (ch === '|') {
      flush();
      tokens.push({ kind: 'op', value: '||' });
      i += 2;
    } else if (ch === ' ' || ch === '\t' || ch === '\r') {
      flush();
      i += 1;
    } else {
      word += ch;
      inWord = true;
      i += 1;
    }
  }
  flush();
  return tokens;
}

// ---- parser -----------------------------------------------------------------------------------

interface SimpleCommand {
  words: string[];
  stream: Stream;
}

function parse(tokens: Token[]): Script {
  const script: Statement[] = [];
  let cmds: { op: '&&' | '||' | null; cmd: SimpleCommand }[] = [];
  let current: SimpleCommand = { words: [], stream: 'stdout' };
  let pendingOp: '&&' | '||' | null = null;

  const endCommand = () => {
    if (current.words.length === 0) {
      if (pendingOp) throw new Unsupported('dangling operator');
      return;
    }
    cmds.push({ op: pendingOp, cmd: current });
    current = { words: [], stream: 'stdout' };
    pendingOp = null;
  };
  const endStatement = (background: boolean) => {
    endCommand();
    const [head, ...tail] = cmds;
    if (head) {
      script.push({
        first: toCommand(head.cmd.words, head.cmd.stream),
        rest: tail.map((c) => ({ op: c.op ?? '&&', cmd: toCommand(c.cmd.words, c.cmd.stream) })),
        background,
      });
    }
    cmds = [];
  };

  for (const t of tokens) {
    if (t.kind === 'word') {
      if (current.words.length === 0 && !t.quoted && UNSUPPORTED_WORDS.has(t.value)) {
        throw new Unsupported(`keyword ${t.value}`);
      }
      current.words.push(t.value);
    } else if (t.kind === 'redirect') {
      if (t.fd === 1 && t.target === '&2') current.stream = 'stderr';
    } else if (t.value === '&&' || t.value === '||') {
      if (current.words.length === 0) throw new Unsupported('empty command before operator');
      endCommand();
      pendingOp = t.value;
    } else {
      endStatement(t.value === '&');
    }
  }
  endStatement(false);
  return script;
}

/** One simple command, from its words. */
function toCommand(words: string[], stream: Stream): Command {
  const [name0 = '', ...args] = words;
  if (name0 === 'exec' && args.length > 0) return toCommand(args, stream);
  const name = basename(name0);
  switch (name) {
    case 'echo':
      return echo(args, stream);
    case 'sleep': {
      const seconds = parseDuration(args[0] ?? '');
      return seconds === null
        ? { kind: 'error', message: `sleep: invalid number '${args[0] ?? ''}'\n`, code: 1 }
        : { kind: 'sleep', seconds };
    }
    case 'exit': {
      const n = args[0] === undefined ? null : Number.parseInt(args[0], 10);
      return { kind: 'exit', code: n === null || Number.isNaN(n) ? null : n & 0xff };
    }
    case 'true':
    case ':':
      return { kind: 'status', code: 0 };
    case 'false':
      return { kind: 'status', code: 1 };
    case 'wait':
      return { kind: 'wait' };
    case 'cat':
      return { kind: 'cat', paths: args.filter((a) => !a.startsWith('-')) };
    case 'trap':
      return trap(args);
    default:
      return { kind: 'forever', argv: words };
  }
}

function echo(args: string[], stream: Stream): Command {
  let newline = true;
  let escapes = false;
  let i = 0;
  for (; i < args.length && /^-[neE]+$/.test(args[i] ?? ''); i += 1) {
    const flags = args[i] ?? '';
    if (flags.includes('n')) newline = false;
    if (flags.includes('e')) escapes = true;
  }
  let text = args.slice(i).join(' ');
  if (escapes) text = text.replace(/\\n/g, '\n').replace(/\\t/g, '\t').replace(/\\\\/g, '\\');
  return { kind: 'echo', text: newline ? `${text}\n` : text, stream };
}

function trap(args: string[]): Command {
  if (args.length < 2) return { kind: 'status', code: 0 };
  const [action = '', ...signals] = args;
  if (!signals.some((s) => ['TERM', 'SIGTERM', '15'].includes(s.toUpperCase()))) {
    return { kind: 'status', code: 0 };
  }
  if (action === '') return { kind: 'trap', action: { kind: 'ignore' } };
  if (action === '-') return { kind: 'trap', action: { kind: 'default' } };
  return { kind: 'trap', action: { kind: 'run', script: compileScript(action) } };
}

/** busybox sleep's argument: N, N.N, with an optional s/m/h/d suffix, or `infinity`. */
export function parseDuration(arg: string): number | null {
  if (arg === 'infinity' || arg === 'inf') return Number.POSITIVE_INFINITY;
  const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(arg);
  if (!m) return null;
  const mult = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * mult;
}

function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(i + 1) : path;
}
