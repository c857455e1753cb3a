import type { EventEmitter } from 'node:events';

/** What a body being filled reports, wherever its bytes are written (this process, another worker, another replica). */
export interface FillProgress extends Pick<EventEmitter, 'on' | 'off'> {
  readonly state: 'filling' | 'verified' | 'committed' | 'failed';
  readonly error?: Error;
  readonly flushed: number;
  readonly expect: { readonly size?: number };
}

/** How many bytes a reader may take now: the last one is held back until verification. */
export function releasableOf(fill: FillProgress): number {
  if (fill.state === 'verified' || fill.state === 'committed') return fill.flushed;
  const known = fill.expect.size;
  return known !== undefined && fill.flushed >= known ? Math.max(0, known - 1) : fill.flushed;
}

/**
 * Resolves once the bytes are verified, or as soon as more than `limit` of them have arrived
 * (a large body streams on unverified, its last byte held back); rejects when the fill fails
 * first. A small body is thereby answered whole or with a clean error, never cut off.
 */
export function verifiedOrPastOf(fill: FillProgress, limit: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      if (fill.state === 'failed') { reject(fill.error); return true; }
      if (fill.state !== 'filling' || fill.flushed > limit) { resolve(); return true; }
      return false;
    };
    if (check()) return;
    const onProgress = () => { if (check()) fill.off('progress', onProgress); };
    fill.on('progress', onProgress);
  });
}
