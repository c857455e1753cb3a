// A counting reverse proxy in front of the upstream registry, one per peer, so each peer's upstream
// traffic (blob GETs, bytes) is counted the same way. It keeps the Host header.
import http from 'node:http';

export async function startFront(target) {
  const log = [];
  let bytes = 0;
  const server = http.createServer((req, res) => {
    log.push(`${req.method} ${new URL(req.url, 'http://x').pathname}`);
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (ures) => {
      res.writeHead(ures.statusCode, ures.headers);
      ures.on('data', (d) => { bytes += d.length; });
      ures.pipe(res);
    });
    up.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
    req.pipe(up);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    log,
    get bytes() { return bytes; },
    count: (re) => log.filter((l) => re.test(l)).length,
    reset() { log.length = 0; bytes = 0; },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}
