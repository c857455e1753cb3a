import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, type ErrorCode } from '../../src/errors/codes.js';

/**
 * docs/errors.md documents every code of errors/codes.ts, with the same HTTP status, and names
 * no code that does not exist: the docs cannot drift from the table.
 */
const DOC_PATH = new URL('../../../../docs/errors.md', import.meta.url);
const doc = readFileSync(DOC_PATH, 'utf8');
const codes = Object.keys(ERROR_CODES) as ErrorCode[];

/** The table rows of the doc: `| \`CODE\` | status | when | what to do |`, with their section. */
interface Row { code: string; status: string; when: string; todo: string; section: string }
function rows(): Row[] {
  const found: Row[] = [];
  let section = '';
  for (const line of doc.split('\n')) {
    if (line.startsWith('## ')) section = line.slice(3).trim();
    const m = /^\| `(CF_ERR_[A-Z_]+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$/.exec(line);
    if (m) found.push({ code: m[1]!, status: m[2]!.trim(), when: m[3]!.trim(), todo: m[4]!.trim(), section });
  }
  return found;
}

describe('errors: docs/errors.md and errors/codes.ts agree', () => {
  it('documents every code of codes.ts in a table row', () => {
    const documented = new Set(rows().map((r) => r.code));
    const missing = codes.filter((c) => !documented.has(c));
    expect(missing, `codes missing from docs/errors.md: ${missing.join(', ')}`).to.deep.equal([]);
  });

  it('names no code that codes.ts does not have', () => {
    const named = new Set(doc.match(/CF_ERR_[A-Z0-9_]*[A-Z0-9]/g) ?? []);
    const unknown = [...named].filter((c) => !Object.hasOwn(ERROR_CODES, c));
    expect(unknown, `docs/errors.md names codes that do not exist: ${unknown.join(', ')}`).to.deep.equal([]);
  });

  it('documents each code once, with the status of codes.ts, when it happens and what to do', () => {
    const all = rows();
    const seen = new Set<string>();
    for (const row of all) {
      expect(seen.has(row.code), `${row.code} is documented twice`).to.equal(false);
      seen.add(row.code);
      const spec = ERROR_CODES[row.code as ErrorCode];
      expect(row.status, row.code).to.equal(String(spec.status));
      expect(row.when.length, `${row.code}: when it happens`).to.be.greaterThan(20);
      expect(row.todo.length, `${row.code}: what to do`).to.be.greaterThan(10);
    }
  });

  it('groups the codes in one section per area', () => {
    const area: Record<string, string> = {
      CONFIG: 'Configuration', PLUGIN: 'Plugins', REQUEST: 'Requests', REMOTE: 'Requests', NOT: 'Requests', LOOP: 'Requests',
      PROXY: 'Proxy requests', POLICY: 'Policy', UPSTREAM: 'Upstream',
      STORAGE: 'Storage, metadata and hot cache', METADATA: 'Storage, metadata and hot cache', CACHE: 'Storage, metadata and hot cache',
      SHUTTING: 'Server', INTERNAL: 'Server',
      AUTH: 'Authentication and the management API', API: 'Authentication and the management API',
    };
    for (const row of rows()) {
      const word = row.code.split('_')[2]!;
      expect(row.section, `${row.code} is under "${row.section}"`).to.equal(area[word]);
    }
  });

  it('the check itself catches a missing code (sanity)', () => {
    // NOTE: guards the parser: if the row pattern stopped matching, the tests above would pass on nothing.
    expect(rows()).to.have.length(codes.length);
    expect(codes.length).to.be.greaterThan(30);
  });
});
