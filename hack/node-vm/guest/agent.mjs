// Runs in the guest (kts-agent.service): the host's tests run commands here through qemu's
// hostfwd. It listens on the guest's user-network address only, and every request must carry the
// random token that hack/node-vm.sh up wrote into the overlay. A closed, throw-away test VM.
//   POST /exec  {"sh": "cmd"} | {"argv": ["cmd", ...]}, optional "timeoutMs", "stdin"
//     -> {"code": N|null, "signal": S|null, "stdout": "...", "stderr": "...", "timedOut": bool}
//   GET /healthz -> ok
import { spawn } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const dir = '/opt/kubelet-ts/etc';
const env = Object.fromEntries(
  readFileSync(`${dir}/vm.env`, 'utf8')
    .split('\n')
    .filter((l) => l.includes('='))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);
const token = Buffer.from(`Bearer ${readFileSync(`${dir}/agent-token`, 'utf8').trim()}`);
const MAX_OUTPUT = 32 * 1024 * 1024;

function authorized(req) {
  const got = Buffer.from(req.headers.authorization ?? '');
  return got.length === token.length && timingSafeEqual(got, token);
}

function run({ sh, argv, timeoutMs = 60_000, stdin }) {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv ?? ['/bin/sh', '-c', sh];
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root' },
    });
    const out = [];
    const err = [];
    let size = 0;
    const collect = (buf) => (chunk) => {
      size += chunk.length;
      if (size <= MAX_OUTPUT) buf.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, signal: null, stdout: '', stderr: String(e.message), timedOut });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(stdin ?? '');
  });
}

const server = createServer(async (req, res) => {
  const reply = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'GET' && req.url === '/healthz') {
    res.end('ok');
    return;
  }
  if (!authorized(req)) return reply(401, { error: 'unauthorized' });
  if (req.method !== 'POST' || req.url !== '/exec') return reply(404, { error: 'not found' });
  const chunks = [];
  for await (const c of req) chunks.push(c);
  let body;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return reply(400, { error: 'body is not JSON' });
  }
  if (typeof body.sh !== 'string' && !Array.isArray(body.argv))
    return reply(400, { error: 'need sh or argv' });
  reply(200, await run(body));
});
server.listen(Number(env.AGENT_PORT), env.GUEST_IP, () => {
  console.log(`kts-agent: listening on ${env.GUEST_IP}:${env.AGENT_PORT}`);
});
