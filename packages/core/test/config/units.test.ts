import { expect } from 'chai';
import { parseDuration, parseSize, formatDuration } from '../../src/util/units.js';
import { duration, size, timerDuration, regex, baseUrl, MAX_TIMER_MS } from '../../src/config/fields.js';

describe('config units', () => {
  describe('parseDuration (to milliseconds)', () => {
    const valid: [string | number, number][] = [
      ['500ms', 500], ['30s', 30_000], ['10m', 600_000], ['1h', 3_600_000], ['7d', 604_800_000], ['2w', 1_209_600_000],
      ['1h30m', 5_400_000], ['1m30s', 90_000], ['1d2h3m4s5ms', 93_784_005], ['1.5h', 5_400_000], ['0.25s', 250],
      ['0', 0], ['0s', 0], ['90', 90_000], ['2.5', 2500], [' 10m ', 600_000], ['10M', 600_000], ['5MS', 5],
      [0, 0], [45, 45_000], [0.5, 500], [0.0004, 0],
    ];
    for (const [input, ms] of valid) {
      it(`reads ${JSON.stringify(input)} as ${ms} ms`, () => expect(parseDuration(input)).to.equal(ms));
    }

    const invalid: (string | number)[] = [
      '', ' ', 'ten minutes', '10 m', '1h 30m', '-5s', '-5', '5x', 'm', 's10', '1e3', '1h30', '.5s', '5.s', '10m!', '1y',
      -1, Number.NaN, Number.POSITIVE_INFINITY,
    ];
    for (const input of invalid) {
      it(`refuses ${JSON.stringify(input) ?? String(input)}`, () => expect(parseDuration(input)).to.equal(undefined));
    }
  });

  describe('parseSize (to bytes)', () => {
    const valid: [string | number, number][] = [
      ['512', 512], ['0', 0], ['512b', 512], ['512B', 512], ['64KiB', 65_536], ['64kib', 65_536], ['1k', 1024], ['1K', 1024],
      ['10MB', 10_000_000], ['10 MB', 10_000_000], ['10MiB', 10_485_760], ['2m', 2_097_152], ['2GiB', 2_147_483_648],
      ['1g', 1_073_741_824], ['1GB', 1e9], ['1TiB', 1024 ** 4], ['1tb', 1e12], ['1.5KiB', 1536], ['0.5k', 512],
      [' 1kb ', 1000], [0, 0], [1024, 1024],
    ];
    for (const [input, bytes] of valid) {
      it(`reads ${JSON.stringify(input)} as ${bytes} bytes`, () => expect(parseSize(input)).to.equal(bytes));
    }

    const invalid: (string | number)[] = ['', 'KiB', '-1', '-1KiB', '1e3', '1 2', '10PB', '10 bytes', '1.5.5k', 'big', 1.5, -1, Number.NaN];
    for (const input of invalid) {
      it(`refuses ${JSON.stringify(input) ?? String(input)}`, () => expect(parseSize(input)).to.equal(undefined));
    }
  });

  describe('formatDuration (for config check)', () => {
    const cases: [number, string][] = [[0, '0'], [250, '250ms'], [1500, '1500ms'], [30_000, '30s'], [90_000, '90s'], [600_000, '10m'], [5_400_000, '90m'], [3_600_000, '1h'], [604_800_000, '7d']];
    for (const [ms, text] of cases) {
      it(`writes ${ms} ms as ${text}, which reads back the same`, () => {
        expect(formatDuration(ms)).to.equal(text);
        expect(parseDuration(text)).to.equal(ms);
      });
    }
  });

  describe('schema types', () => {
    it('duration: a string or number of seconds, or an error that shows the expected form', () => {
      expect(duration.parse('2m')).to.equal(120_000);
      expect(duration.parse(3)).to.equal(3000);
      const failed = duration.safeParse('soon');
      expect(failed.success).to.equal(false);
      expect(failed.error!.issues[0]!.message).to.equal('expected a duration such as 30s, 10m, 1h or 7d, got "soon"');
      expect(duration.safeParse(true).success).to.equal(false);
    });

    it('timerDuration: refuses what a Node.js timer cannot wait (it would fire after 1 ms)', () => {
      expect(timerDuration.parse('24d')).to.equal(24 * 86_400_000);
      expect(timerDuration.parse(`${MAX_TIMER_MS}ms`)).to.equal(MAX_TIMER_MS);
      const failed = timerDuration.safeParse('30d');
      expect(failed.success).to.equal(false);
      expect(failed.error!.issues[0]!.message).to.match(/^expected a duration of at most 24d/);
      // A TTL is compared with clocks, not waited for: long ones are fine there.
      expect(duration.parse('365d')).to.equal(365 * 86_400_000);
    });

    it('size: a string or number of bytes, or an error that shows the expected form', () => {
      expect(size.parse('1KiB')).to.equal(1024);
      expect(size.parse(7)).to.equal(7);
      expect(size.safeParse('lots').error!.issues[0]!.message).to.equal('expected a size such as 512, 64KiB or 2GiB, got "lots"');
    });

    it('regex: compiles, or names the syntax error', () => {
      expect(regex.parse('^a/.+\\.tgz$')).to.be.instanceOf(RegExp);
      expect(regex.safeParse('a)').error!.issues[0]!.message).to.match(/^invalid regular expression: .*Unmatched '\)'/);
    });

    it('baseUrl: absolute http(s) only, without query or fragment, always ending in /', () => {
      expect(baseUrl.parse('https://example.org/dist').href).to.equal('https://example.org/dist/');
      expect(baseUrl.parse('http://127.0.0.1:9/').href).to.equal('http://127.0.0.1:9/');
      const message = (text: string) => baseUrl.safeParse(text).error!.issues[0]!.message;
      expect(message('example.org/dist')).to.equal('expected an absolute http(s) URL, got "example.org/dist"');
      expect(message('ftp://example.org/')).to.equal('expected an http or https URL, got ftp:');
      expect(message('https://example.org/?a=1')).to.equal('a base URL takes no query string or fragment');
    });
  });
});
