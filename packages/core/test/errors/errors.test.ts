import { expect } from 'chai';
import { CacheForgeError, cfError, hasCode, isCacheForgeError } from '../../src/errors/errors.js';
import { ERROR_CODES } from '../../src/errors/codes.js';

describe('errors: coded errors', () => {
  it('carry their code, context and cause, and the spec of their code', () => {
    const cause = new Error('ECONNRESET');
    const err = cfError('CF_ERR_UPSTREAM_UNAVAILABLE', 'GET https://x.example/a failed', {
      op: 'upstream.request', remote: 'files', path: 'a', detail: { attempt: 3 }, headers: { 'retry-after': '5' }, cause,
    });
    expect(err).to.be.instanceOf(Error);
    expect(err.name).to.equal('CacheForgeError');
    expect(err).to.include({ code: 'CF_ERR_UPSTREAM_UNAVAILABLE', message: 'GET https://x.example/a failed', op: 'upstream.request', remote: 'files', path: 'a' });
    expect(err.detail).to.deep.equal({ attempt: 3 });
    expect(err.headers).to.deep.equal({ 'retry-after': '5' });
    expect(err.cause).to.equal(cause);
    expect(err.spec).to.equal(ERROR_CODES.CF_ERR_UPSTREAM_UNAVAILABLE);
    expect(err.spec.status).to.equal(502);
  });

  it('are recognised by their code, also when another copy of the core made them', () => {
    // What a plugin's own copy of @cacheforge/core throws: another class, the same code.
    class ForeignError extends Error { readonly code = 'CF_ERR_POLICY_DENIED'; }
    const foreign = new ForeignError('denied');
    expect(foreign instanceof CacheForgeError).to.equal(false);
    expect(isCacheForgeError(foreign)).to.equal(true);
    expect(hasCode(foreign, 'CF_ERR_POLICY_DENIED', 'CF_ERR_NOT_FOUND')).to.equal(true);
    expect(hasCode(foreign, 'CF_ERR_NOT_FOUND')).to.equal(false);
  });

  it('are not confused with other errors that have a code', () => {
    const fsError = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    expect(isCacheForgeError(fsError)).to.equal(false);
    expect(isCacheForgeError({ code: 'CF_ERR_NOT_FOUND', message: 'not an Error' })).to.equal(false);
    expect(isCacheForgeError(Object.assign(new Error('x'), { code: 'CF_ERR_NO_SUCH_CODE' }))).to.equal(false);
    expect(isCacheForgeError(Object.assign(new Error('x'), { code: 'toString' }))).to.equal(false);
    expect(isCacheForgeError(null)).to.equal(false);
    expect(isCacheForgeError('CF_ERR_NOT_FOUND')).to.equal(false);
  });

  it('every code in the table is well formed', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(code).to.match(/^CF_ERR_[A-Z]+(_[A-Z]+)*$/);
      expect(spec.status, code).to.be.within(400, 599);
      expect(spec.title.length, code).to.be.greaterThan(3);
      expect(['debug', 'info', 'warn', 'error'], code).to.include(spec.level);
    }
  });
});
