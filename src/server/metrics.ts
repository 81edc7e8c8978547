import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The kubelet's Prometheus registry (upstream kubelet_* names where we measure the same thing). */
export class KubeletMetrics {
  readonly registry = new Registry();
  readonly runningPods: Gauge;
  readonly runningContainers: Gauge<'container_state'>;
  readonly httpRequests: Counter<'method' | 'path' | 'server_type'>;
  readonly podStartDuration: Histogram;
  /** Upstream pod startup latency SLI, fed by each pod's timeline. */
  readonly podStartSLIDuration: Histogram;
  readonly podStartTotalDuration: Histogram;
  readonly nodeName: Gauge<'node'>;

  constructor(node: string, runtime?: () => { pods: number; running: number; exited: number }) {
    collectDefaultMetrics({ register: this.registry });
    this.runningPods = new Gauge({
      name: 'kubelet_running_pods',
      help: 'Number of pods that have a running pod sandbox',
      registers: [this.registry],
      collect() {
        if (runtime) this.set(runtime().pods);
      },
    });
    this.runningContainers = new Gauge({
      name: 'kubelet_running_containers',
      help: 'Number of containers currently running',
      labelNames: ['container_state'],
      registers: [this.registry],
      collect() {
        if (!runtime) return;
        const r = runtime();
        this.set({ container_state: 'running' }, r.running);
        this.set({ container_state: 'exited' }, r.exited);
      },
    });
    this.httpRequests = new Counter({
      name: 'kubelet_http_requests_total',
      help: 'Number of the http requests received since the server started',
      labelNames: ['method', 'path', 'server_type'],
      registers: [this.registry],
    });
    this.podStartDuration = new Histogram({
      name: 'kubelet_pod_start_duration_seconds',
      help: 'Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run',
      buckets: [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600],
      registers: [this.registry],
    });
    // Upstream podStartupDurationBuckets.
    const startBuckets = [
      0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700,
      3600,
    ];
    this.podStartSLIDuration = new Histogram({
      name: 'kubelet_pod_start_sli_duration_seconds',
      help: 'Duration in seconds to start a pod, excluding time to pull images and run init containers, measured from pod creation timestamp to when all its containers are reported as started and observed via watch',
      buckets: startBuckets,
      registers: [this.registry],
    });
    this.podStartTotalDuration = new Histogram({
      name: 'kubelet_pod_start_total_duration_seconds',
      help: 'Duration in seconds to start a pod since creation, including time to pull images and run init containers, measured from pod creation timestamp to when all its containers are reported as started and observed via watch',
      buckets: startBuckets,
      registers: [this.registry],
    });
    this.nodeName = new Gauge({
      name: 'kubelet_node_name',
      help: "The node's name. The count is always 1.",
      labelNames: ['node'],
      registers: [this.registry],
    });
    this.nodeName.set({ node }, 1);
  }
}
