import type { Container } from '../api/types.js';

/**
 * Upstream's container hash (v1.31+): FNV-32a over the JSON of {"image":…,"name":…}, lowercase
 * hex. Only an image change restarts a running container in place.
 */
export function containerHash(c: Pick<Container, 'image' | 'name'>): string {
  const json = JSON.stringify({ image: c.image ?? '', name: c.name });
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(json, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16);
}
