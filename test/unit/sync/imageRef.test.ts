import { describe, expect, it } from 'vitest';
import { imageRefError } from '../../../src/sync/images.js';

// Image references as github.com/distribution/reference parses them (the kubelet's
// applyDefaultImageTag fails with InvalidImageName on these errors).

describe('imageRefError', () => {
  it.each([
    'busybox',
    'busybox:1.36',
    'localhost:5999/kubelet-ts/busybox:1.36',
    'Example.COM:5000/team/app:v1',
    'registry.k8s.io/pause:3.10',
    `busybox@sha256:${'a'.repeat(64)}`,
    `a/b/c:tag@sha256:${'0'.repeat(64)}`,
    'a__b/c---d',
  ])('accepts %j', (ref) => {
    expect(imageRefError(ref)).toBeUndefined();
  });

  it.each([
    ['Localhost/UPPER:1', 'repository name must be lowercase'],
    ['docker.io/Library/busybox', 'repository name must be lowercase'],
    ['', 'invalid reference format'],
    ['busy box', 'invalid reference format'],
    ['busybox@sha256:xyz', 'invalid reference format'],
    ['../../etc/passwd', 'invalid reference format'],
    ['busybox:', 'invalid reference format'],
    ['/busybox', 'invalid reference format'],
    [`busybox:${'t'.repeat(129)}`, 'invalid reference format'],
  ])('refuses %j: %s', (ref, why) => {
    expect(imageRefError(ref)).toBe(why);
  });
});
