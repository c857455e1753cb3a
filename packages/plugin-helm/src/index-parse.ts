import { isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { EntryCollector, type IndexScan } from './index-listing.js';

/**
 * Reads an index by parsing the whole document with `yaml` (every scalar a string: the failsafe
 * schema keeps an all-digit digest from turning into a number). Exact for every shape YAML
 * allows, but it builds the whole tree at once: used only for indexes whose shape the streaming
 * reader does not follow, and to check that reader in tests.
 */
export function parseIndex(text: string): IndexScan {
  const doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: false, strict: false });
  if (doc.errors.length > 0) throw new Error(`index.yaml is not valid YAML: ${doc.errors[0]!.message}`);
  const collector = new EntryCollector();
  const entries = resolve(doc, doc.get('entries', true) as Node | undefined);
  if (!isMap(entries)) return collector.result();
  for (const pair of entries.items) {
    const chart = scalarText(doc, pair.key as Node);
    const versions = resolve(doc, pair.value as Node | undefined);
    if (chart === undefined || !isSeq(versions)) continue;
    versions.items.forEach((item, index) => {
      const entry = resolve(doc, item as Node);
      if (!isMap(entry)) return;
      for (const field of ['name', 'version', 'digest'] as const) {
        const value = scalarText(doc, entry.get(field, true) as Node | undefined);
        if (value !== undefined) collector.field(chart, index, field, value);
      }
      const urls = resolve(doc, entry.get('urls', true) as Node | undefined);
      if (!isSeq(urls)) return;
      for (const url of urls.items) {
        const value = scalarText(doc, url as Node);
        const range = (url as Node).range;
        if (value !== undefined && range) collector.url(chart, index, { start: range[0], end: range[1], value });
      }
    });
  }
  return collector.result();
}

function resolve(doc: Document, node: Node | undefined): Node | undefined {
  return isAlias(node) ? (node.resolve(doc) as Node | undefined) : node;
}

function scalarText(doc: Document, node: Node | undefined): string | undefined {
  const resolved = resolve(doc, node);
  return isScalar(resolved) && resolved.value !== null && resolved.value !== undefined ? String(resolved.value) : undefined;
}
