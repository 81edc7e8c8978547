// Stops and removes every pod sandbox (and so every container) of a CRI runtime. Used by
// hack/local-down on the containerd that hack/ started, so no shim process outlives it.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const sock = process.argv[2] ?? '/run/containerd/containerd.sock';
const proto = join(dirname(fileURLToPath(import.meta.url)), '..', 'proto', 'cri', 'api.proto');
const def = protoLoader.loadSync(proto, { longs: String, enums: String, defaults: true, oneofs: true });
const pkg = grpc.loadPackageDefinition(def);
const client = new pkg.runtime.v1.RuntimeService(`unix://${sock}`, grpc.credentials.createInsecure());
const call = (m, req) =>
  new Promise((resolve, reject) =>
    client[m](req, { deadline: Date.now() + 60_000 }, (err, res) => (err ? reject(err) : resolve(res))),
  );

const { items } = await call('ListPodSandbox', {});
for (const sb of items) {
  await call('StopPodSandbox', { podSandboxId: sb.id }).catch((e) =>
    console.error(`stop ${sb.id}: ${e.message}`),
  );
  await call('RemovePodSandbox', { podSandboxId: sb.id }).catch((e) =>
    console.error(`remove ${sb.id}: ${e.message}`),
  );
}
console.log(`removed ${items.length} pod sandbox(es)`);
process.exit(0);
