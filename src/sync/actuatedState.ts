import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Container } from '../api/types.js';
import { type Logger, silentLogger } from '../util/log.js';
import { goJsonString } from './hash.js';

/**
 * Upstream's actuated-resources checkpoint (kuberuntime actuatedState, InPlacePodVerticalScaling):
 * `<root-dir>/actuated_pods_state`, the resources each container was created with, by pod UID.
 * The upstream kubelet reads it at start; a Burstable or Guaranteed container it finds no record
 * for counts as "resize in progress" on its first sync (a PodResizeInProgress condition, then a
 * ResizeCompleted event, and a restart for a RestartContainer resize policy). kubelet-ts writes
 * the record like upstream when it creates a container, keeps upstream's entries, and drops a
 * pod's entry when it removes the pod, so the two kubelets can take turns on one root dir.
 */

export const ACTUATED_STATE_FILE = 'actuated_pods_state';

type ResourceList = Record<string, string>;
/** v1.ResourceRequirements as stored (limits, requests, claims; empty ones omitted). */
export type StoredRequirements = { limits?: ResourceList; requests?: ResourceList; claims?: unknown[] };

/** One pod's entry (state.PodResourceInfo: Go field names, no JSON tags). */
export interface PodResourceInfo {
  ContainerResources: Record<string, StoredRequirements>;
  PodLevelResources: StoredRequirements | null;
  EmptyDirVolumeLimits: Record<string, string | null> | null;
  [other: string]: unknown;
}

export type Entries = Record<string, PodResourceInfo>;

/** The checkpoint file is corrupt or unreadable. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

function fnv32a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * PURE. checkpointmanager/checksum.New(data string): FNV-32a over hashutil.DeepHashObject's
 * spew text of the string, `(string)` followed by the raw string.
 */
export function checkpointChecksum(data: string): number {
  return fnv32a(Buffer.from(`(string)${data}`, 'utf8'));
}

/** Go's json.Marshal for the JSON values we store: map keys sorted, strings HTML-escaped. */
function goJson(v: unknown, sortKeys: boolean): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goJsonString(v);
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => goJson(x, true)).join(',')}]`;
  const keys = Object.keys(v as object);
  if (sortKeys) keys.sort();
  return `{${keys.map((k) => `${goJsonString(k)}:${goJson((v as Record<string, unknown>)[k], true)}`).join(',')}}`;
}

/** Struct fields in Go's declaration order, then anything else a newer kubelet wrote. */
function encodeInfo(info: PodResourceInfo): string {
  const { ContainerResources, PodLevelResources, EmptyDirVolumeLimits, ...rest } = info;
  const ordered: Record<string, unknown> = {
    ContainerResources,
    PodLevelResources,
    EmptyDirVolumeLimits,
    ...rest,
  };
  const parts = Object.keys(ordered).map((k) => {
    const v = ordered[k];
    const value =
      k === 'ContainerResources' && v
        ? `{${Object.keys(v as object)
            .sort()
            .map(
              (n) =>
                `${goJsonString(n)}:${encodeRequirements((v as Record<string, StoredRequirements>)[n]!)}`,
            )
            .join(',')}}`
        : k === 'PodLevelResources' && v
          ? encodeRequirements(v as StoredRequirements)
          : goJson(v, true);
    return `${goJsonString(k)}:${value}`;
  });
  return `{${parts.join(',')}}`;
}

function encodeRequirements(r: StoredRequirements): string {
  const parts: string[] = [];
  if (r.limits && Object.keys(r.limits).length > 0) parts.push(`"limits":${goJson(r.limits, true)}`);
  if (r.requests && Object.keys(r.requests).length > 0) parts.push(`"requests":${goJson(r.requests, true)}`);
  if (r.claims && r.claims.length > 0) parts.push(`"claims":${goJson(r.claims, true)}`);
  return `{${parts.join(',')}}`;
}

/** PURE. The checkpoint file's bytes: {"data": <JSON of {entries}>, "checksum": N}. */
export function encodeCheckpoint(entries: Entries): string {
  const uids = Object.keys(entries).sort();
  const data =
    uids.length === 0
      ? '{}'
      : `{"entries":{${uids.map((u) => `${goJsonString(u)}:${encodeInfo(entries[u]!)}`).join(',')}}}`;
  return `{"data":${goJsonString(data)},"checksum":${checkpointChecksum(data)}}`;
}

/** PURE. Reads a checkpoint file (verifying its checksum as upstream does). */
export function decodeCheckpoint(text: string): Entries {
  let cp: { data?: unknown; checksum?: unknown };
  try {
    cp = JSON.parse(text) as typeof cp;
  } catch (err) {
    throw new CheckpointError(`not JSON: ${(err as Error).message}`);
  }
  if (typeof cp.data !== 'string' || typeof cp.checksum !== 'number') {
    throw new CheckpointError('missing data or checksum');
  }
  const actual = checkpointChecksum(cp.data);
  if (actual !== cp.checksum) {
    throw new CheckpointError(`checkpoint is corrupted: checksum ${actual}, expected ${cp.checksum}`);
  }
  const data = JSON.parse(cp.data) as { entries?: Entries };
  return data.entries ?? {};
}

/** PURE. A container's resources as upstream's setActuatedContainerResources records them. */
export function containerRequirements(c: Pick<Container, 'resources'>): StoredRequirements {
  const r = c.resources ?? {};
  const out: StoredRequirements = {};
  if (r.limits && Object.keys(r.limits).length > 0) out.limits = stringify(r.limits);
  if (r.requests && Object.keys(r.requests).length > 0) out.requests = stringify(r.requests);
  if (r.claims && r.claims.length > 0) out.claims = r.claims;
  return out;
}

const stringify = (l: Record<string, unknown>): ResourceList =>
  Object.fromEntries(Object.entries(l).map(([k, v]) => [k, String(v)]));

/** The checkpoint in memory, written through (tmp file + rename) on every change. */
export class ActuatedState {
  private entries: Entries = {};
  private writes: Promise<void> = Promise.resolve();
  private readonly path: string;
  private readonly log: Logger;

  constructor(rootDir: string, logger?: Logger) {
    this.path = join(rootDir, ACTUATED_STATE_FILE);
    this.log = logger ?? silentLogger;
  }

  /** Loads the checkpoint a previous kubelet (either one) left; a missing file is empty. */
  async load(): Promise<void> {
    const text = await readFile(this.path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (text === undefined) return;
    try {
      this.entries = decodeCheckpoint(text);
    } catch (err) {
      // Upstream refuses to start on a corrupt checkpoint; ours is rewritten on the next change.
      this.log.warn(
        { path: this.path, err: String(err) },
        'ignoring an unreadable actuated-resources checkpoint',
      );
    }
  }

  setContainerResources(uid: string, name: string, c: Pick<Container, 'resources'>): Promise<void> {
    const info = this.entries[uid] ?? {
      ContainerResources: {},
      PodLevelResources: null,
      EmptyDirVolumeLimits: null,
    };
    this.entries[uid] = info;
    info.ContainerResources ??= {};
    info.ContainerResources[name] = containerRequirements(c);
    return this.store();
  }

  removePod(uid: string): Promise<void> {
    if (!(uid in this.entries)) return Promise.resolve();
    delete this.entries[uid];
    return this.store();
  }

  get(uid: string): PodResourceInfo | undefined {
    return this.entries[uid];
  }

  private store(): Promise<void> {
    const text = encodeCheckpoint(this.entries);
    this.writes = this.writes.then(async () => {
      try {
        await mkdir(dirname(this.path), { recursive: true });
        await writeFile(`${this.path}.tmp`, text, { mode: 0o600 });
        await rename(`${this.path}.tmp`, this.path);
      } catch (err) {
        this.log.warn(
          { path: this.path, err: String(err) },
          'writing the actuated-resources checkpoint failed',
        );
      }
    });
    return this.writes;
  }
}
