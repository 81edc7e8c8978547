import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { nowNs, rfc3339Nano } from './clock.js';
import type { Stream } from './programs.js';

/**
 * Writes a container log the way containerd's CRI plugin does: one line per write of
 * `<RFC3339Nano> <stream> <F|P> <text>`, F for a full line, P for a partial one (text that did
 * not end in a newline). Writes are small appends, done synchronously so a line is on disk
 * before the container is reported exited.
 */
export class CriLogWriter {
  readonly path: string;

  /** Creates the log file (and its directories), as containerd does when a container starts. */
  constructor(path: string) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
    appendFileSync(path, '');
  }

  write(stream: Stream, text: string): void {
    const parts = text.split('\n');
    const last = parts.pop() ?? '';
    let out = '';
    for (const line of parts) out += `${rfc3339Nano(nowNs())} ${stream} F ${line}\n`;
    if (last) out += `${rfc3339Nano(nowNs())} ${stream} P ${last}\n`;
    if (out) appendFileSync(this.path, out);
  }
}
