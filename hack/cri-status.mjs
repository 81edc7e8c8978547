// Asks a CRI endpoint for Version and Status; exits 0 only when RuntimeReady and NetworkReady
// are both true. Used by hack/containerd.sh to wait for containerd. Needs `npm ci` first.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const sock = process.argv[2] ?? '/run/containerd/containerd.sock';
const proto = join(dirname(fileURLToPath(import.meta.url)), '..', 'proto', 'cri', 'api.proto');
const def = protoLoader.loadSync(proto, { longs: String, enums: String, defaults: true, oneofs: true });
const pkg = grpc.loadPackageDefinition(def);
const client = new pkg.runtime.v1.RuntimeService(`unix://${sock}`, grpc.credentials.createInsecure());
const deadline = () => ({ deadline: Date.now() + 3000 });
const call = (m, req) =>
  new Promise((resolve, reject) =>
    client[m](req, deadline(), (err, res) => (err ? reject(err) : resolve(res))),
  );

try {
  const v = await call('Version', {});
  const s = await call('Status', { verbose: false });
  const conds = Object.fromEntries(s.status.conditions.map((c) => [c.type, c]));
  const ready = conds.RuntimeReady?.status && conds.NetworkReady?.status;
  console.log(
    JSON.stringify({
      runtime: `${v.runtimeName} ${v.runtimeVersion}`,
      api: v.runtimeApiVersion,
      conditions: s.status.conditions,
    }),
  );
  process.exit(ready ? 0 : 1);
} catch (e) {
  console.error(String(e));
  process.exit(2);
}
