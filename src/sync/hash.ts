import type { Container } from '../api/types.js';

/**
 * Upstream's container hash (kubecontainer.HashContainer, v1.31+), byte for byte, so that a
 * container started by either kubelet is not seen as changed by the other:
 *
 *   FNV-32a( spew.Sprintf("%#v", json.Marshal(map[string]string{"image": …, "name": …})) )
 *
 * hashutil.DeepHashObject prints the JSON's []byte with k8s.io/utils/dump.ForHash, i.e.
 * `([]uint8)[123 34 105 …]` (decimal bytes, space separated), and FNV-32a runs over that text.
 * Written into io.kubernetes.container.hash as strconv.FormatUint(hash, 16). Only an image change
 * restarts a running container in place.
 */
export function containerHash(c: Pick<Container, 'image' | 'name'>): string {
  return hashContainerValue(c).toString(16);
}

/** The hash as a number (upstream's uint64 holding a Sum32). */
export function hashContainerValue(c: Pick<Container, 'image' | 'name'>): number {
  // encoding/json sorts map keys: image before name.
  const json = `{"image":${goJsonString(c.image ?? '')},"name":${goJsonString(c.name)}}`;
  const bytes = Buffer.from(json, 'utf8');
  return fnv32a(Buffer.from(`([]uint8)[${bytes.join(' ')}]`, 'latin1'));
}

/**
 * Upstream getUint64ValueFromLabel for the hash annotation: hex, parsed as an unsigned integer;
 * undefined when absent or unparsable (upstream logs and uses 0).
 */
export function parseContainerHash(annotation: string | undefined): number | undefined {
  if (annotation === undefined || !/^[0-9a-fA-F]{1,16}$/.test(annotation)) return undefined;
  const v = Number.parseInt(annotation, 16);
  return Number.isSafeInteger(v) ? v : undefined;
}

function fnv32a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const byte of bytes) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A string as Go's encoding/json writes it (HTML-safe): like JSON.stringify, except that <, >
 * and & become \u003c, \u003e, \u0026, U+2028/U+2029 are escaped, and a lone surrogate (which
 * Go's UTF-8 strings cannot hold) becomes U+FFFD.
 */
export function goJsonString(s: string): string {
  const wellFormed = s.replace(LONE_SURROGATE, '\uFFFD');
  return JSON.stringify(wellFormed).replace(/[<>&\u2028\u2029]/g, (ch) => {
    return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
