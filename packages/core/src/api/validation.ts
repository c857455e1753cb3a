import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { cfError } from '../errors/errors.js';
import { COMPONENTS } from './schemas.js';
import type { ApiParameter, JsonSchema } from './route.js';

// NOTE: ajv-formats is CommonJS with `exports.default`; under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

/** A JSON Schema validator that knows the document's components (`#/components/schemas/X`). */
export function createAjv(options: { coerceTypes?: boolean } = {}): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, coerceTypes: options.coerceTypes ?? false, useDefaults: false });
  addFormats(ajv);
  ajv.addSchema({ $id: 'components', $defs: COMPONENTS });
  return ajv;
}

/** Checks one input of a request and returns it (coerced, for a query); 400 naming the field otherwise. */
export type InputCheck = (where: 'query' | 'body', value: unknown) => unknown;

const bodies = createAjv();
// Query strings are strings: `limit=10` is read as the integer its schema says.
const queries = createAjv({ coerceTypes: true });

export function compileBody(schema: JsonSchema): InputCheck {
  return checker(bodies.compile(withComponents(schema)));
}

export function compileQuery(params: Readonly<Record<string, ApiParameter>>): InputCheck {
  const schema = {
    type: 'object', additionalProperties: false,
    required: Object.entries(params).filter(([, p]) => p.required).map(([k]) => k),
    properties: Object.fromEntries(Object.entries(params).map(([k, p]) => [k, p.schema])),
  };
  return checker(queries.compile(schema));
}

/** Local `#/components/...` references resolved against the shared components schema. */
export function withComponents(schema: JsonSchema): JsonSchema {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"components#/$defs/')) as JsonSchema;
}

function checker(validate: ValidateFunction): InputCheck {
  return (where, value) => {
    const copy = structuredClone(value);
    if (!validate(copy)) throw cfError('CF_ERR_API_BAD_REQUEST', `invalid ${where}: ${describeErrors(where, validate.errors ?? [])}`);
    return copy;
  };
}

/** Ajv's errors as `body.scopes[0]: must be one of read, write, admin` lines. */
export function describeErrors(where: string, errors: readonly ErrorObject[]): string {
  return errors.map((e) => {
    const at = where + e.instancePath.split('/').slice(1).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('');
    if (e.keyword === 'additionalProperties') return `${at}: unknown field ${(e.params as { additionalProperty: string }).additionalProperty}`;
    if (e.keyword === 'required') return `${at}: missing field ${(e.params as { missingProperty: string }).missingProperty}`;
    if (e.keyword === 'enum') return `${at}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    return `${at}: ${e.message}`;
  }).join('; ');
}
