import type * as grpc from '@grpc/grpc-js';
import type { ImageServiceHandlers } from '../gen/runtime/v1/ImageService.js';
import type { RuntimeServiceHandlers } from '../gen/runtime/v1/RuntimeService.js';

/** T without its index signatures (the generated handler interfaces extend an untyped map). */
type Known<T> = { [K in keyof T as string extends K ? never : K]: T[K] };

export type RuntimeHandlers = Known<RuntimeServiceHandlers>;
export type ImageHandlers = Known<ImageServiceHandlers>;
export type RuntimeMethod = keyof RuntimeHandlers & string;
export type ImageMethod = keyof ImageHandlers & string;
/** Every CRI method name, of both services. */
export type CriMethod = RuntimeMethod | ImageMethod;

type AllHandlers = RuntimeHandlers & ImageHandlers;
type RequestOf<H> =
  H extends grpc.handleServerStreamingCall<infer Req, infer _Res>
    ? Req
    : H extends grpc.handleUnaryCall<infer Req, infer _Res>
      ? Req
      : never;

/** The request a method receives (the decoded, defaults-filled shape). */
export type CriRequest<M extends CriMethod> = RequestOf<AllHandlers[M]>;
