/** Positional reads over a blob that may still be growing. */
export interface PartialReader {
  /**
   * Reads up to `length` bytes at `position`; fewer at the current end. With `into` (at least
   * `length` bytes) the result is a view of it, so the caller can reuse one buffer.
   */
  read(position: number, length: number, into?: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}
