import { expect } from 'chai';
import { interpolate } from '../../src/config/interpolate.js';
import { formatPath, problemsFromZod } from '../../src/config/problems.js';
import { z } from 'zod';

describe('config: ${VAR} interpolation', () => {
  const env = { TOKEN: 't0k', HOST: 'mirror.example', EMPTY: '', PORT: '8080' };
  const one = (text: string, vars: NodeJS.ProcessEnv = env) => interpolate({ key: text }, vars);

  const cases: [string, string][] = [
    ['plain', 'plain'],
    ['${TOKEN}', 't0k'],
    ['Bearer ${TOKEN}', 'Bearer t0k'],
    ['https://${HOST}:${PORT}/x', 'https://mirror.example:8080/x'],
    ['${UNSET_X:-fallback}', 'fallback'],
    ['${UNSET_X:-}', ''],
    ['${EMPTY:-used when empty}', 'used when empty'],
    ['${TOKEN:-not used}', 't0k'],
    ['${UNSET_X:-a:b/c?d=e}', 'a:b/c?d=e'],
    ['$${TOKEN}', '${TOKEN}'],
    ['cost: $${', 'cost: ${'],
    ['$${ not a name }', '${ not a name }'],
    ['$$${TOKEN}', '$${TOKEN}'],
    ['$TOKEN and $ and {TOKEN}', '$TOKEN and $ and {TOKEN}'],
    ['${TOKEN}${TOKEN}', 't0kt0k'],
  ];
  for (const [input, output] of cases) {
    it(`turns ${JSON.stringify(input)} into ${JSON.stringify(output)}`, () => {
      const result = one(input);
      expect(result.problems).to.deep.equal([]);
      expect(result.value).to.deep.equal({ key: output });
    });
  }

  it('names the key of an unset variable and of an empty one', () => {
    const result = interpolate({ remotes: { npm: { headers: { authorization: 'Bearer ${NPM_TOKEN}' } } }, list: ['ok', '${EMPTY}'] }, env);
    expect(result.problems).to.deep.equal([
      { path: ['remotes', 'npm', 'headers', 'authorization'], variable: 'NPM_TOKEN', message: 'environment variable NPM_TOKEN is not set (and no ${NPM_TOKEN:-default} given)' },
      { path: ['list', 1], variable: 'EMPTY', message: 'environment variable EMPTY is empty (and no ${EMPTY:-default} given)' },
    ]);
    expect(formatPath(result.problems[0]!.path)).to.equal('remotes.npm.headers.authorization');
    expect(formatPath(result.problems[1]!.path)).to.equal('list[1]');
  });

  for (const malformed of ['${}', '${TOKEN', '${1ABC}', '${MY-VAR}', '${TOKEN:default}', 'a ${ b']) {
    it(`reports the malformed reference in ${JSON.stringify(malformed)} instead of passing it on`, () => {
      const result = one(malformed);
      expect(result.problems).to.have.length(1);
      expect(result.problems[0]!.path).to.deep.equal(['key']);
      expect(result.problems[0]!.message).to.equal('malformed ${...} reference: expected ${NAME} or ${NAME:-default} (write $${ for a literal ${)');
    });
  }

  it('records as secret the keys whose value came from the environment, not from a default', () => {
    const result = interpolate({ a: '${TOKEN}', b: { c: ['x', 'pre-${HOST}'] }, d: '${NOPE:-dflt}', e: 'literal', f: 8080 }, env);
    expect([...result.secrets].sort()).to.deep.equal(['a', 'b.c.1']);
    expect(result.value).to.deep.equal({ a: 't0k', b: { c: ['x', 'pre-mirror.example'] }, d: 'dflt', e: 'literal', f: 8080 });
  });

  it('leaves numbers, booleans and null alone, and does not change its input', () => {
    const input = { n: 1, t: true, z: null, s: '${TOKEN}' };
    const result = interpolate(input, env);
    expect(result.value).to.deep.equal({ n: 1, t: true, z: null, s: 't0k' });
    expect(input.s).to.equal('${TOKEN}');
  });
});

describe('config: problems from the schema', () => {
  it('formats key paths the way a user reads them', () => {
    expect(formatPath(['remotes', 'apache', 'include', 2])).to.equal('remotes.apache.include[2]');
    expect(formatPath([0, 'a'])).to.equal('[0].a');
    expect(formatPath([])).to.equal('(root)');
  });

  it('turns zod issues into one sentence per key path', () => {
    const schema = z.strictObject({ port: z.number(), name: z.string(), list: z.array(z.number()) });
    const result = schema.safeParse({ port: 'abc', list: [1, 'x'], extra: 1, other: 2 });
    expect(problemsFromZod(result.error!, ['server'])).to.deep.equal([
      { path: 'server.port', message: 'expected number, received string' },
      { path: 'server.name', message: 'required (expected string)' },
      { path: 'server.list[1]', message: 'expected number, received string' },
      { path: 'server.extra', message: 'unknown key' },
      { path: 'server.other', message: 'unknown key' },
    ]);
  });
});
