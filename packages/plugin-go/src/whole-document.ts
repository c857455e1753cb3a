import type { BodyVerifier } from '@cacheforge/core';

/**
 * A check of a small document (a tree head, a lookup answer) that needs it whole: the bytes are
 * kept as they stream, up to `maxBytes`, and `check` reads them once the body is complete.
 */
export class WholeDocumentCheck implements BodyVerifier {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxBytes: number, private readonly check: (body: Buffer) => Promise<void>) {}

  update(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size <= this.maxBytes) this.chunks.push(chunk);
  }

  async finish(): Promise<void> {
    if (this.size > this.maxBytes) throw new Error(`the document is over ${this.maxBytes} bytes`);
    await this.check(Buffer.concat(this.chunks));
  }
}
