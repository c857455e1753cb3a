import { expect } from 'chai';
import { startCacheForge } from '../../src/testing/harness.js';
import { LogCapture } from '../../src/testing/log-capture.js';

describe('server: the start log', () => {
  it("names each remote's full upstream URL, with its credentials removed", async () => {
    const logs = new LogCapture();
    const cf = await startCacheForge({
      remotes: {
        releases: { type: 'generic', upstream: 'http://deploy:s3cr3t-pw@127.0.0.1:9/mirror/releases/' },
        nightly: { type: 'generic', upstream: 'http://127.0.0.1:9/mirror/nightly/' },
      },
    }, { logLevel: 'info', logTo: logs });
    try {
      const line = logs.lines.find((l) => l.msg === 'cacheforge listening');
      expect(line?.remotes).to.deep.equal(['releases (generic → http://127.0.0.1:9/mirror/releases/)', 'nightly (generic → http://127.0.0.1:9/mirror/nightly/)']);
      expect(JSON.stringify(logs.lines)).to.not.include('s3cr3t-pw');
    } finally {
      await cf.cleanup();
    }
  });
});
