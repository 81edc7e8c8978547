import { appendFile, readdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { CriClient } from '../../../src/cri/client.js';
import { CriMock } from '../../../src/cri/mock/index.js';
import { LogRotator } from '../../../src/sync/logRotation.js';
import { KubeletHarness, testPod } from '../../helpers/kubeletHarness.js';

let mock: CriMock | undefined;
let h: KubeletHarness | undefined;
afterEach(async () => {
  await h?.stop();
  await mock?.stop();
});

describe('container log rotation', () => {
  it('rotates an oversized log, reopens it through the CRI, compresses older files and keeps maxFiles', async () => {
    mock = await CriMock.start();
    h = await KubeletHarness.start(mock.endpoint);
    const pod = testPod('chatty');
    h.setPods([pod]);
    const uid = pod.metadata!.uid!;
    await h.waitFor('Running', () => h!.status(uid)?.phase === 'Running');
    const cri = new CriClient({ endpoint: mock.endpoint });
    const [c] = await cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': uid } });
    const path = (await cri.containerStatus(c!.id)).status!.logPath;
    let t = Date.UTC(2026, 10, 25, 14, 0, 0);
    const rotator = new LogRotator({
      cri,
      maxSizeBytes: 1024,
      maxFiles: 3,
      now: () => {
        t += 1000;
        return new Date(t);
      },
    });

    await appendFile(path, `${'2026-11-25T14:00:00.000000000Z stdout F x\n'.repeat(30)}`);
    await rotator.rotateOne(c!.id, path);
    // Rotated, and the runtime reopened an empty file at the same path.
    expect((await stat(path)).size).toBe(0);

    for (let i = 0; i < 3; i++) {
      await appendFile(path, `2026-11-25T14:00:00.000000000Z stdout F round-${i} ${'y'.repeat(2000)}\n`);
      await rotator.rotateOne(c!.id, path);
    }
    await rotator.rotateOne(c!.id, path);
    const names = (await readdir(dirname(path))).sort();
    const base = path.split('/').pop()!;
    // current + 2 rotated (maxFiles 3): the older rotated one is compressed, the newest is not.
    const rotated = names.filter((n) => n.startsWith(`${base}.`));
    expect(rotated).toHaveLength(2);
    expect(rotated[0]).toMatch(/\.\d{8}-\d{6}\.gz$/);
    expect(rotated[1]).toMatch(/\.\d{8}-\d{6}$/);
    expect(gunzipSync(await readFile(`${dirname(path)}/${rotated[0]}`)).toString()).toContain('round-1');
    expect(await readFile(`${dirname(path)}/${rotated[1]}`, 'utf8')).toContain('round-2');
    expect(mock.calls('ReopenContainerLog').length).toBe(4);
    cri.close();
  });
});
