import type { JsonSchema } from './route.js';

/** Schemas shared by several routes, published under `components.schemas` of the document. */
export const COMPONENTS: Record<string, JsonSchema> = {
  Error: {
    type: 'object', required: ['errors'], additionalProperties: false,
    properties: {
      errors: {
        type: 'array', minItems: 1,
        items: {
          type: 'object', required: ['code', 'message'], additionalProperties: false,
          properties: { code: { type: 'string', pattern: '^CF_ERR_[A-Z_]+$' }, message: { type: 'string' }, detail: { type: 'object' } },
        },
      },
    },
  },
};

/** A reference to a component schema. */
export function ref(name: keyof typeof COMPONENTS | string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

export const isoTime: JsonSchema = { type: 'string', format: 'date-time' };
export const nullableIsoTime: JsonSchema = { type: ['string', 'null'], format: 'date-time' };

/** A closed object: every listed property required unless named in `optional`. */
export function object(properties: Record<string, JsonSchema>, optional: readonly string[] = []): JsonSchema {
  return { type: 'object', additionalProperties: false, required: Object.keys(properties).filter((k) => !optional.includes(k)), properties };
}
