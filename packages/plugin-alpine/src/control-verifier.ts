import { createHash } from 'node:crypto';
import type { BodyVerifier, FinishedBody } from '@cacheforge/core';
import { memberAt } from './gzip-members.js';
import { tarFiles } from './tar-entries.js';

/**
 * Checks an `.apk` against its index record's `C:` before it is stored. `C:` is `Q1` + base64
 * SHA1 of the control gzip member only (the tar holding `.PKGINFO`), not of the file: a signed
 * package (every official one) starts with a signature member, and the control member is the
 * second; the data member follows. Only those first members are read, by position, once the body
 * is complete, so a large package costs no more than a small one.
 */
export class ControlMemberVerifier implements BodyVerifier {
  constructor(private readonly expected: string) {}

  update(): void {
    // Nothing per chunk: the members are found by position in finish.
  }

  async finish(body: FinishedBody): Promise<void> {
    const read = (position: number, length: number) => body.read(position, length);
    const first = await memberAt(read, body.size, 0);
    const signed = firstName(first.inflated)?.startsWith('.SIGN.') ?? false;
    const control = signed ? await memberAt(read, body.size, first.end) : first;
    const bytes = await body.read(control.start, control.end - control.start);
    const actual = `Q1${createHash('sha1').update(bytes).digest('base64')}`;
    if (actual !== this.expected) {
      throw new Error(`its control member's checksum is ${actual}, the index lists C:${this.expected}`);
    }
  }
}

function firstName(tar: Buffer): string | undefined {
  try {
    return tarFiles(tar)[0]?.name;
  } catch {
    return undefined;
  }
}
