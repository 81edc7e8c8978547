import { describe, expect, it } from 'vitest';
import { parseDebugArgs, runDebugCli } from '../../../src/cli/debug.js';

describe('kubelet-ts timeline|explain command line', () => {
  it('takes kubectl-style arguments', () => {
    expect(parseDebugArgs(['timeline', 'pod', 'web', '-n', 'shop'])).toEqual({
      command: 'timeline',
      name: 'web',
      namespace: 'shop',
      output: 'text',
    });
    expect(
      parseDebugArgs(['explain', 'pod/web', '--namespace=shop', '-o', 'json', '--context', 'kind']),
    ).toEqual({
      command: 'explain',
      name: 'web',
      namespace: 'shop',
      context: 'kind',
      output: 'json',
    });
    expect(parseDebugArgs(['explain', '-f', 'p.yaml', '--node', 'n1'])).toMatchObject({
      file: 'p.yaml',
      node: 'n1',
    });
  });

  it('refuses what it does not understand with the usage and exit code 2', async () => {
    let err = '';
    const code = await runDebugCli(
      ['timeline', 'deployment', 'web'],
      () => {},
      (s) => {
        err += s;
      },
    );
    expect(code).toBe(2);
    expect(err).toMatch(/^error: expected: pod NAME\nUsage:\n {2}kubelet-ts timeline pod NAME/);
    expect(() => parseDebugArgs(['explain', '-f', 'p.yaml'])).toThrow('a dry run needs --node NODE');
    expect(() => parseDebugArgs(['timeline', 'pod', 'x', '-o', 'yaml'])).toThrow(
      'unknown output format yaml',
    );
  });

  it('says when the kubeconfig cannot be read', async () => {
    let err = '';
    const code = await runDebugCli(
      ['timeline', 'pod', 'web', '--kubeconfig', '/nonexistent/kubeconfig'],
      () => {},
      (s) => {
        err += s;
      },
    );
    expect(code).toBe(1);
    expect(err).toMatch(/^error: cannot read kubeconfig \/nonexistent\/kubeconfig: /);
  });
});
