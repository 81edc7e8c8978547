import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './gen/api.js';

/**
 * proto-loader options. hack/gen-cri.sh generates src/cri/gen with the SAME options, so the
 * generated types describe exactly the objects these options produce at run time:
 * camelCase fields, int64 as decimal strings (nanosecond timestamps exceed 2^53), enums as
 * their names, and proto3 zero values filled in (CONTAINER_CREATED = 0, exit code 0).
 */
export const CRI_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

const here = dirname(fileURLToPath(import.meta.url));

/** proto/cri/api.proto, found from this file both in src/ (tests) and in dist/src/ (built). */
export function criProtoPath(): string {
  const fromSrc = join(here, '..', '..', 'proto', 'cri', 'api.proto');
  const fromDist = join(here, '..', '..', '..', 'proto', 'cri', 'api.proto');
  return here.includes(`${'/dist/'}`) ? fromDist : fromSrc;
}

let cached: { def: protoLoader.PackageDefinition; pkg: ProtoGrpcType } | undefined;

/** The CRI package definition (parsed once per process). */
export function loadCri(): { def: protoLoader.PackageDefinition; pkg: ProtoGrpcType } {
  if (!cached) {
    const def = protoLoader.loadSync(criProtoPath(), CRI_LOADER_OPTIONS);
    cached = { def, pkg: grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType };
  }
  return cached;
}
