import { rm } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import type { ImageServiceHandlers } from '../gen/runtime/v1/ImageService.js';
import type { RuntimeServiceHandlers } from '../gen/runtime/v1/RuntimeService.js';
import { loadCri } from '../proto.js';

const MiB = 1024 * 1024;

/** A grpc-js server with both CRI services, built from the same proto as the client. */
export async function listen(
  socketPath: string,
  runtime: RuntimeServiceHandlers,
  image: ImageServiceHandlers,
): Promise<grpc.Server> {
  const { pkg } = loadCri();
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 16 * MiB,
    'grpc.max_send_message_length': 16 * MiB,
  });
  server.addService(pkg.runtime.v1.RuntimeService.service, runtime);
  server.addService(pkg.runtime.v1.ImageService.service, image);
  // A socket file left by a previous server (or a crashed test) would make bind fail.
  await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    );
  });
  return server;
}

/** Closes every connection at once (in-flight calls end with UNAVAILABLE/CANCELLED). */
export async function close(server: grpc.Server, socketPath: string): Promise<void> {
  server.forceShutdown();
  await rm(socketPath, { force: true });
}
