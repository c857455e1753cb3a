import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { redact, redactText } from '../../src/util/redact.js';
import { createLogger } from '../../src/util/logger.js';

const SECRET = 'S3NT1NEL-redact';

function capture(): { stream: PassThrough; lines(): Record<string, unknown>[]; text(): string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  const text = () => Buffer.concat(chunks).toString('utf8');
  return { stream, text, lines: () => text().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('security: one redact', () => {
  it('removes URL credentials and replaces every query value', () => {
    const shown = redact(new URL(`https://user:${SECRET}@cdn.example.com/a.tgz?X-Amz-Signature=${SECRET}&token=${SECRET}&token=${SECRET}`));
    expect(shown).to.not.contain(SECRET);
    expect(shown).to.not.contain('user');
    expect(shown).to.contain('cdn.example.com/a.tgz?X-Amz-Signature=');
    expect(redact(`http://u:${SECRET}@[bad`)).to.not.contain(SECRET);
  });

  it('scrubs every URL in free text', () => {
    const text = `GET http://user:${SECRET}@host:81/x?sig=${SECRET}&a=1 failed; then 'https://${SECRET}@other/y?token=${SECRET}'`;
    const shown = redactText(text);
    expect(shown).to.not.contain(SECRET);
    expect(shown).to.contain('http://host:81/x?sig=…&a=…');
  });

  it('the logger prints an error as type, code, redacted message and frames only, and scrubs messages', async () => {
    const out = capture();
    const log = createLogger('trace', out.stream);
    const err = Object.assign(new Error(`request to http://u:${SECRET}@h/x?token=${SECRET} failed`), {
      code: 'ECONNRESET',
      options: { headers: { authorization: `Bearer ${SECRET}`, 'x-api-key': SECRET } },
      request: { url: `http://u:${SECRET}@h/` }, response: { headers: { 'set-cookie': SECRET } },
      cause: new Error(SECRET),
    });
    log.error({ err }, 'failed');
    log.warn({ error: err, reason: `see http://a:${SECRET}@h/`, other: err }, `message with http://a:${SECRET}@h/?k=${SECRET}`);
    log.info(`plain http://a:${SECRET}@h/`);
    await new Promise((r) => setImmediate(r));
    expect(out.text()).to.not.contain(SECRET);
    const [first] = out.lines();
    expect(first!.err).to.have.keys('type', 'code', 'message', 'stack');
    expect((first!.err as { code: string }).code).to.equal('ECONNRESET');
  });
});
