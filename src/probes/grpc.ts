import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { onAbort } from '../util/abort.js';
import { grpcErrorText } from './exec.js';
import { joinHostPort } from './net.js';
import { KUBE_MINOR_VERSION, type ProbeOutcome } from './types.js';

/**
 * grpc.health.v1 (github.com/grpc/grpc-proto health.proto), written out as the protobuf JSON
 * descriptor proto-loader accepts: HealthCheckRequest{string service = 1},
 * HealthCheckResponse{ServingStatus status = 1}, Health.Check and Health.Watch.
 */
const HEALTH_DESCRIPTOR = {
  nested: {
    grpc: {
      nested: {
        health: {
          nested: {
            v1: {
              nested: {
                HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
                HealthCheckResponse: {
                  fields: { status: { type: 'ServingStatus', id: 1 } },
                  nested: {
                    ServingStatus: {
                      values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 },
                    },
                  },
                },
                Health: {
                  methods: {
                    Check: { requestType: 'HealthCheckRequest', responseType: 'HealthCheckResponse' },
                    Watch: {
                      requestType: 'HealthCheckRequest',
                      responseType: 'HealthCheckResponse',
                      responseStream: true,
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

export interface HealthCheckRequest {
  service: string;
}
export interface HealthCheckResponse {
  status: 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
}

let health: grpc.ServiceDefinition | undefined;

/** The grpc.health.v1.Health service definition (for the prober and for test servers). */
export function healthService(): grpc.ServiceDefinition {
  if (!health) {
    const def = protoLoader.fromJSON(HEALTH_DESCRIPTOR as Parameters<typeof protoLoader.fromJSON>[0], {
      enums: String,
      defaults: true,
    });
    health = def['grpc.health.v1.Health'] as grpc.ServiceDefinition;
  }
  return health;
}

/** Go's time.Duration String for whole seconds: 1s, 1m30s. */
function goSeconds(s: number): string {
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  return `${Math.floor(m / 60)}h${m % 60}m${s % 60}s`;
}

/**
 * A gRPC probe (upstream pkg/probe/grpc): a fresh plaintext connection to host:port within
 * the timeout, then grpc.health.v1.Health/Check{service} within what is left of it. SERVING →
 * success "service healthy"; everything else is a failure with upstream's messages.
 */
export async function grpcProbe(
  host: string,
  port: number,
  service: string,
  timeoutSeconds: number,
  signal?: AbortSignal,
): Promise<{ outcome: ProbeOutcome; output: string }> {
  const addr = joinHostPort(host, port);
  const timeout = goSeconds(timeoutSeconds);
  const deadline = Date.now() + timeoutSeconds * 1000;
  const client = new grpc.Client(addr, grpc.credentials.createInsecure(), {
    'grpc.primary_user_agent': `kube-probe/${KUBE_MINOR_VERSION}`,
    'grpc.enable_http_proxy': 0,
    'grpc.enable_retries': 0,
    'grpc.max_reconnect_backoff_ms': 1000,
  });
  try {
    const connected = await new Promise<Error | undefined>((resolve) => {
      const detach = onAbort(signal, () => resolve(new Error('context canceled')));
      client.waitForReady(deadline, (err) => {
        detach();
        resolve(err ?? undefined);
      });
    });
    if (connected) {
      if (signal?.aborted) {
        return {
          outcome: 'failure',
          output: `error: failed to connect service at ${JSON.stringify(addr)}: context canceled`,
        };
      }
      return {
        outcome: 'failure',
        output: `timeout: failed to connect service ${JSON.stringify(addr)} within ${timeout}: context deadline exceeded`,
      };
    }
    const def = healthService().Check as grpc.MethodDefinition<HealthCheckRequest, HealthCheckResponse>;
    const res = await new Promise<{ err?: grpc.ServiceError; res?: HealthCheckResponse }>((resolve) => {
      let detach = () => {};
      const call = client.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        { service },
        new grpc.Metadata(),
        { deadline },
        (err, r) => {
          detach();
          resolve(err ? { err } : { res: r });
        },
      );
      detach = onAbort(signal, () => call.cancel());
    });
    if (res.err) {
      const e = res.err;
      if (e.code === grpc.status.UNIMPLEMENTED) {
        return {
          outcome: 'failure',
          output: `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${e.details}`,
        };
      }
      if (e.code === grpc.status.DEADLINE_EXCEEDED) {
        return { outcome: 'failure', output: `timeout: health rpc did not complete within ${timeout}` };
      }
      return {
        outcome: 'failure',
        output: `error: health rpc probe failed: ${grpcErrorText(e.code, e.details)}`,
      };
    }
    const status = res.res?.status ?? 'UNKNOWN';
    if (status !== 'SERVING') {
      return { outcome: 'failure', output: `service unhealthy (responded with ${JSON.stringify(status)})` };
    }
    return { outcome: 'success', output: 'service healthy' };
  } finally {
    client.close();
  }
}
