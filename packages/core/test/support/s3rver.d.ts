// The test S3 server ships no types; this is the part the tests use.
declare module '@20minutes/s3rver' {
  import type { AddressInfo } from 'node:net';
  interface S3rverOptions { address?: string; port?: number; silent?: boolean; directory: string; resetOnClose?: boolean; configureBuckets?: { name: string }[] }
  interface Context {
    method: string; path: string; query: Record<string, unknown>; headers: Record<string, string | undefined>; type: string; body: unknown; status: number;
    response: { get(name: string): string }; set(name: string, value: string): void;
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    middleware: ((ctx: Context, next: () => Promise<void>) => Promise<void>)[];
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
}
