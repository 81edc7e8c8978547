// Host side of `hack/node-vm.sh exec NAME CMD`: sends CMD to the guest's agent (see
// hack/node-vm/guest/agent.mjs) through qemu's hostfwd port, prints the command's stdout and
// stderr, and exits with its exit code (124 on timeout, 255 when the agent cannot be reached).
//   node hack/node-vm/client.mjs PORT TOKEN_FILE 'shell command'
import { readFileSync } from 'node:fs';

const [port, tokenFile, sh] = process.argv.slice(2);
const timeoutMs = Number(process.env.NODE_VM_EXEC_TIMEOUT ?? 300) * 1000;
try {
  const res = await fetch(`http://127.0.0.1:${port}/exec`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ sh, timeoutMs }),
    signal: AbortSignal.timeout(timeoutMs + 10_000),
  });
  if (res.status !== 200) throw new Error(`agent answered ${res.status}: ${await res.text()}`);
  const r = await res.json();
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.timedOut ? 124 : (r.code ?? 128);
} catch (err) {
  process.stderr.write(`node-vm exec: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 255;
}
