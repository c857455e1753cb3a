import { expect } from 'chai';
import { tokenFromHeader } from '../../src/auth/credentials.js';
import { grants } from '../../src/auth/scopes.js';

const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;

describe('auth: the token each client sends', () => {
  it('reads Bearer (npm _authToken, helm, curl), the bare token (cargo) and Basic with the token as password (pip, docker, apt, maven, go)', () => {
    expect(tokenFromHeader('Bearer cf_abc')).to.equal('cf_abc');
    expect(tokenFromHeader('bearer  cf_abc ')).to.equal('cf_abc');
    expect(tokenFromHeader('cf_abc')).to.equal('cf_abc');
    expect(tokenFromHeader(basic('anyone:cf_abc'))).to.equal('cf_abc');
    expect(tokenFromHeader(basic('cf_abc:'))).to.equal('cf_abc');
    expect(tokenFromHeader(basic('user:pa:ss'))).to.equal('pa:ss');
  });

  it('finds no token in a missing header, an empty one, or an unknown scheme', () => {
    expect(tokenFromHeader(undefined)).to.equal(undefined);
    expect(tokenFromHeader('')).to.equal(undefined);
    expect(tokenFromHeader('Digest username="x"')).to.equal(undefined);
    expect(tokenFromHeader('Bearer ')).to.equal(undefined);
  });

  it('orders scopes: admin includes write includes read', () => {
    expect(grants(['admin'], 'read')).to.equal(true);
    expect(grants(['write'], 'read')).to.equal(true);
    expect(grants(['write'], 'admin')).to.equal(false);
    expect(grants(['read'], 'write')).to.equal(false);
    expect(grants([], 'read')).to.equal(false);
  });
});
