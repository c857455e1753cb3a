import { expect } from 'chai';
import { secretMatches } from '../../src/pipeline/replica/fill-source.js';
import { listenUrl } from '../../src/pipeline/replica/replica-wiring.js';

describe('streaming across replicas: the secret and the advertised address', () => {
  it('accepts only the exact secret, of any length', () => {
    expect(secretMatches('a-cluster-secret-1234', 'a-cluster-secret-1234')).to.equal(true);
    expect(secretMatches('a-cluster-secret-123', 'a-cluster-secret-1234')).to.equal(false);
    expect(secretMatches('', 'a-cluster-secret-1234')).to.equal(false);
    expect(secretMatches(undefined, 'a-cluster-secret-1234')).to.equal(false);
  });

  it('advertises the listen address, never one that names every interface or port 0', () => {
    expect(listenUrl({ host: '10.0.0.5', port: 8080 })).to.equal('http://10.0.0.5:8080');
    expect(listenUrl({ host: '::1', port: 8080 })).to.equal('http://[::1]:8080');
    expect(listenUrl({ host: '0.0.0.0', port: 8080 })).to.equal(undefined);
    expect(listenUrl({ host: '::', port: 8080 })).to.equal(undefined);
    expect(listenUrl({ host: '127.0.0.1', port: 0 })).to.equal(undefined);
    expect(listenUrl(undefined)).to.equal(undefined);
  });
});
