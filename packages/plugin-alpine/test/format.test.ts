import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FinishedBody } from '@cacheforge/core';
import { parseApkIndex, parseRecords } from '../src/apkindex.js';
import { ControlMemberVerifier } from '../src/control-verifier.js';
import { memberAt } from '../src/gzip-members.js';
import { buildApk, buildIndex, tar } from './support/apk-bytes.js';

function finished(bytes: Buffer): FinishedBody & { reads: number } {
  const body = {
    size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), reads: 0,
    read: async (position: number, length: number) => { body.reads += 1; return bytes.subarray(position, position + length); },
  };
  return body;
}
const q1 = (member: Buffer) => `Q1${createHash('sha1').update(member).digest('base64')}`;
const checksumOf = (record: string) => /^C:(.+)$/m.exec(record)![1]!;

/** A gzip member with FNAME and FCOMMENT set, as some gzip writers make them. */
function namedMember(data: Buffer): Buffer {
  const plain = gzipSync(data);
  return Buffer.concat([plain.subarray(0, 3), Buffer.from([8 | 16]), plain.subarray(4, 10), Buffer.from('control.tar\0a comment\0'), plain.subarray(10)]);
}

describe('plugin-alpine: C: of the control member', () => {
  it('accepts a signed package: the control member is the second gzip member', async () => {
    const apk = buildApk('signed', '1.0-r0', randomBytes(200_000));
    await new ControlMemberVerifier(checksumOf(apk.record)).finish(finished(apk.bytes));
  });

  it('accepts an unsigned package: the control member is the first', async () => {
    const control = gzipSync(tar([['.PKGINFO', Buffer.from('pkgname = u\n')]], true));
    const bytes = Buffer.concat([control, gzipSync(tar([['usr/x', Buffer.from('x')]]))]);
    await new ControlMemberVerifier(q1(control)).finish(finished(bytes));
  });

  it('rejects a package whose control member differs from C:, naming both checksums', async () => {
    const apk = buildApk('other', '1.0-r0', Buffer.from('data'));
    const wrong = 'Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=';
    const err = await new ControlMemberVerifier(wrong).finish(finished(apk.bytes)).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.contain(`C:${wrong}`).and.to.contain(checksumOf(apk.record));
  });

  it('reads only the first members of a large package, and grows its window for a large control member', async () => {
    const big = gzipSync(tar([['.PKGINFO', randomBytes(300_000)]], true));
    const data = gzipSync(tar([['usr/big', randomBytes(4 * 1024 * 1024)]]));
    const body = finished(Buffer.concat([big, data]));
    await new ControlMemberVerifier(q1(big)).finish(body);
    expect(body.reads).to.be.below(10);
  });

  it('finds members whose header carries a file name and a comment', async () => {
    const control = namedMember(tar([['.PKGINFO', Buffer.from('pkgname = n\n')]], true));
    const signature = namedMember(tar([['.SIGN.RSA.k.rsa.pub', randomBytes(256)]], true));
    await new ControlMemberVerifier(q1(control)).finish(finished(Buffer.concat([signature, control, gzipSync(Buffer.from('d'))])));
  });

  it('rejects bytes that are not an apk, and a package cut inside its control member', async () => {
    const apk = buildApk('cut', '1.0-r0', Buffer.from('data'));
    const signature = await memberAt(async (p, l) => apk.bytes.subarray(p, p + l), apk.bytes.length, 0);
    for (const bytes of [Buffer.from('<html>not found</html>'), apk.bytes.subarray(0, signature.end + 20)]) {
      const err = await new ControlMemberVerifier(checksumOf(apk.record)).finish(finished(bytes)).then(() => undefined, (e: Error) => e);
      expect(err, bytes.length.toString()).to.be.instanceOf(Error);
    }
  });
});

describe('plugin-alpine: APKINDEX', () => {
  it('lists each record by file name with its C: and S:', () => {
    const a = buildApk('a', '1.0-r0', Buffer.from('a'));
    const b = buildApk('b-lib', '2.3.1_git20240101-r12', Buffer.from('bb'));
    const index = parseApkIndex(buildIndex([a.record, b.record]), 'x/APKINDEX.tar.gz');
    expect([...index.keys()]).to.deep.equal(['a-1.0-r0.apk', 'b-lib-2.3.1_git20240101-r12.apk']);
    expect(index.get('a-1.0-r0.apk')).to.deep.equal({ checksum: checksumOf(a.record), size: a.bytes.length });
  });

  it('reads a signed index: the cut signature tar runs into the index tar', () => {
    const a = buildApk('a', '1.0-r0', Buffer.from('a'));
    const signature = gzipSync(tar([['.SIGN.RSA.k.rsa.pub', randomBytes(256)]], true));
    expect([...parseApkIndex(Buffer.concat([signature, buildIndex([a.record])]), 'k').keys()]).to.deep.equal(['a-1.0-r0.apk']);
  });

  it('skips records without P: or V:, and keeps a record without S: or C:', () => {
    const records = parseRecords('P:x\nV:1-r0\n\nC:Q1zz\nP:lonely\n\nP:y\nV:2-r0\nS:not-a-number\n');
    expect(Object.fromEntries(records)).to.deep.equal({ 'x-1-r0.apk': { checksum: undefined, size: undefined }, 'y-2-r0.apk': { checksum: undefined, size: undefined } });
  });

  it('answers CF_ERR_UPSTREAM_INVALID for an index that is not a gzip tar or holds no APKINDEX', () => {
    for (const body of [Buffer.from('<html>'), gzipSync(tar([['DESCRIPTION', Buffer.from('x')]]))]) {
      expect(() => parseApkIndex(body, 'v3.20/main/x86_64/APKINDEX.tar.gz')).to.throw().with.property('code', 'CF_ERR_UPSTREAM_INVALID');
    }
  });
});
