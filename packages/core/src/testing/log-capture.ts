import { Writable } from 'node:stream';

/** One parsed JSON log line. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

/** A log destination that keeps every JSON line it is given, parsed. */
export class LogCapture extends Writable {
  readonly lines: LogLine[] = [];
  private pending = '';

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.pending += chunk.toString('utf8');
    let newline: number;
    while ((newline = this.pending.indexOf('\n')) !== -1) {
      const line = this.pending.slice(0, newline);
      this.pending = this.pending.slice(newline + 1);
      if (line.trim()) this.lines.push(JSON.parse(line) as LogLine);
    }
    callback();
  }

  /** The access-log lines (`msg: "request"`). */
  get requests(): LogLine[] {
    return this.lines.filter((l) => l.msg === 'request');
  }
}
