import { expect } from 'chai';
import { parseRemotePath } from '../../src/util/request-path.js';

/** The same path with every character percent-encoded: it can only be read by decoding it. */
const encoded = (raw: string) => raw.split('/').map((s) => [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')).join('/');

const reason = (raw: string) => {
  try {
    parseRemotePath(raw);
    return 'accepted';
  } catch (err) {
    return `${(err as { code?: string }).code}: ${(err as Error).message}`;
  }
};

describe('parseRemotePath: plain paths read as they are, the same as their encoded form', () => {
  for (const raw of ['pkg.tgz', 'a/b/c-1.0.0.tar.gz', '@scope/name/-/name-1.2.3.tgz', 'dir/', 'v2/library/app/manifests/sha256:abc',
    "x/~user/(1)+[2]".replace('[2]', '2'), 'a.b/..c/c..', `${'a'.repeat(255)}/b`]) {
    it(`reads ${JSON.stringify(raw.slice(0, 40))} as itself`, () => {
      const plain = parseRemotePath(raw);
      expect(plain.path).to.equal(raw);
      expect(plain).to.deep.equal(parseRemotePath(encoded(raw)));
    });
  }

  for (const [what, raw, why] of [
    ['a dot-dot segment', 'a/../b', 'dot segment'], ['a dot segment', './b', 'dot segment'], ['a trailing dot-dot', 'a/..', 'dot segment'],
    ['a leading slash', '/a', 'empty path segment'], ['a double slash', 'a//b', 'empty path segment'], ['only a slash', '/', 'empty path segment'],
    ['a segment over 255 bytes', `${'a'.repeat(256)}/b`, 'segment longer than 255 bytes'], ['a path over 2048 bytes', 'a/'.repeat(1025), 'longer than 2048 bytes'],
  ] as const) {
    it(`refuses ${what}, plain or encoded, with the same reason`, () => {
      expect(reason(raw)).to.equal(`CF_ERR_REQUEST_BAD_PATH: bad request path: ${why}`);
      if (why !== 'empty path segment' && why !== 'longer than 2048 bytes') expect(reason(encoded(raw))).to.equal(reason(raw));
    });
  }

  it('still decodes what needs it and refuses what decodes to something unsafe', () => {
    expect(parseRemotePath('a%20b/c').path).to.equal('a b/c');
    expect(reason('a/%2e%2e/b')).to.match(/dot segment/);
    expect(reason('a%2fb')).to.match(/encoded slash/);
    expect(parseRemotePath('a%2fb', { encodedSlash: true }).segments).to.deep.equal(['a/b']);
    expect(reason('a\\b')).to.match(/backslash/);
    expect(parseRemotePath('')).to.deep.equal({ path: '', segments: [] });
  });
});
