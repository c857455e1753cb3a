// The benchmark's npm upstream: serves the snapshot from memory (documents with its own base in
// place of the placeholder, tarballs as saved) on 127.0.0.1, and counts requests.
import http from 'node:http';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ORIGIN } from './snapshot.mjs';

function walk(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}

/** Starts the upstream on `port`; its registry base is `http://127.0.0.1:<port>/npm/`. */
export async function startSnapshotUpstream(snapshotDir, port) {
  const base = `http://127.0.0.1:${port}/npm/`;
  const files = new Map();
  const documentsDir = path.join(snapshotDir, 'documents');
  for (const file of walk(documentsDir)) {
    const name = path.relative(documentsDir, file).slice(0, -'.json'.length);
    files.set(`/npm/${name}`, { body: Buffer.from(readFileSync(file, 'utf8').split(ORIGIN).join(base)), type: 'application/json' });
  }
  const tarballsDir = path.join(snapshotDir, 'tarballs');
  for (const file of walk(tarballsDir)) {
    const rel = path.relative(tarballsDir, file);
    const name = path.dirname(rel);
    files.set(`/npm/${name}/-/${path.basename(rel)}`, { body: readFileSync(file), type: 'application/octet-stream' });
  }
  const counts = { documents: 0, tarballs: 0, other: 0 };
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url.split('?')[0]);
    const found = files.get(url);
    if (!found) { counts.other += 1; res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}'); return; }
    if (url.includes('/-/')) counts.tarballs += 1; else counts.documents += 1;
    res.writeHead(200, { 'content-type': found.type, 'content-length': found.body.length }).end(found.body);
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { base, counts, stop: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }) };
}
