import { expect } from 'chai';
import type { ValidateFunction } from 'ajv';
import { createAjv, describeErrors } from '../../src/api/validation.js';

/** One answer of the API, after it was checked against the document. */
export interface ApiAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
  readonly text: string;
}

interface Operation {
  readonly template: string;
  readonly pattern: RegExp;
  readonly method: string;
  readonly responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
}

/**
 * A client of a running Cache Forge's management API that checks every answer against the
 * OpenAPI document the server publishes: the status must be one the operation documents, and a
 * JSON body must match that status's schema. Operations answered are kept, so a test can ask
 * which ones it exercised.
 */
export class CheckedApi {
  readonly exercised = new Set<string>();
  private readonly operations: Operation[] = [];
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly ajv = createAjv();

  private constructor(readonly url: string, readonly document: Record<string, any>) {
    this.ajv.addSchema({ $id: 'document', $defs: document.components.schemas });
    for (const [template, item] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
      const source = template.replace(/\{([A-Za-z]+)\}/g, (_, name: string) => (Object.values(item).some((op: any) => op.parameters?.some((p: any) => p.name === name && p.allowReserved)) ? '(.+)' : '([^/]+)'));
      for (const [method, op] of Object.entries(item)) this.operations.push({ template, method: method.toUpperCase(), pattern: new RegExp(`^${source}/?$`), responses: op.responses });
    }
  }

  /** Reads the document (no token needed) and returns a client checking against it. */
  static async open(url: string): Promise<CheckedApi> {
    const res = await fetch(`${url}/-/api/v1/openapi.json`);
    expect(res.status).to.equal(200);
    return new CheckedApi(url, await res.json() as Record<string, any>);
  }

  /** The operation a request goes to, per the document. */
  operation(method: string, path: string): Operation | undefined {
    const pathname = new URL(path, 'http://x').pathname;
    return this.operations.find((o) => o.method === method && o.pattern.test(pathname));
  }

  async call(method: string, path: string, options: { token?: string; authorization?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiAnswer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.authorization !== undefined) headers.authorization = options.authorization;
    if (options.body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(this.url + path, { method, headers, body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body) });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    const body = type.includes('json') && text ? JSON.parse(text) as unknown : text;
    const op = this.operation(method, path);
    expect(op, `${method} ${path} is not in the OpenAPI document`).to.not.equal(undefined);
    const spec = op!.responses[String(res.status)];
    expect(spec, `${method} ${path} answered ${res.status}, which ${op!.method} ${op!.template} does not document: ${text.slice(0, 300)}`).to.not.equal(undefined);
    const content = spec!.content ? Object.entries(spec!.content)[0] : undefined;
    if (content && method !== 'HEAD') {
      const [mediaType, { schema }] = content;
      expect(type, `${method} ${path} ${res.status}`).to.contain(mediaType.split(';')[0]);
      if (mediaType.includes('json')) {
        const key = `${op!.method} ${op!.template} ${res.status}`;
        let validate = this.validators.get(key);
        if (!validate) this.validators.set(key, validate = this.ajv.compile(rebase(schema)));
        expect(validate(body), `${key} body does not match its schema: ${describeErrors('body', validate.errors ?? [])}\n${text.slice(0, 500)}`).to.equal(true);
      }
    }
    this.exercised.add(`${op!.method} ${op!.template}`);
    return { status: res.status, headers: res.headers, body, text };
  }
}

/** A schema whose `#/components/...` references point into the document schema. */
function rebase(schema: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"document#/$defs/')) as Record<string, unknown>;
}
