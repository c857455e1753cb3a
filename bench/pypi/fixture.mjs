// The PyPI benchmark's upstream, as static files nginx serves: real wheels (Debian's, plus
// BENCH_PROJECTS built with setuptools by the plugin's fixture builder), each project's page in
// PEP 503 HTML (`index.html`) and PEP 691 JSON (`index.json`) with absolute links to a second
// host, the file host, and PEP 658 metadata files beside the wheels.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { runCommand } from '../lib/proc.mjs';

const DEBIAN_WHEELS = '/usr/share/python-wheels';
const BUILD_PYTHON = '/usr/bin/python3';

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const normalize = (name) => name.replace(/[-_.]+/g, '-').toLowerCase();
const escapeHtml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** `count` pure-Python projects `cf-bench-NN`, one wheel each, as the fixture builder's spec. */
export function benchProjects(count) {
  return Array.from({ length: count }, (_, i) => ({ name: `cf-bench-${String(i + 1).padStart(2, '0')}`, version: '1.0', wheel: true }));
}

/**
 * Builds the wheels into `<www>/packages/` and writes the pages under `<www>/simple/`. File links
 * point at `filesBase` (`http://127.0.0.1:<files>/`). Returns { projects, files } where files are
 * { filename, project, sha256, size, urlPath }.
 */
export async function buildPypiTree({ root, www, filesBase, projects }) {
  const packages = path.join(www, 'packages');
  mkdirSync(packages, { recursive: true });
  for (const f of readdirSync(DEBIAN_WHEELS)) if (f.endsWith('.whl')) copyFileSync(path.join(DEBIAN_WHEELS, f), path.join(packages, f));
  const spec = path.join(www, '..', 'bench-projects.json');
  writeFileSync(spec, JSON.stringify(projects));
  const builder = path.join(root, 'packages/plugin-pypi/test/fixture/build_distributions.py');
  const built = await runCommand(BUILD_PYTHON, [builder, packages, spec], { timeoutMs: 600_000 });
  if (built.code !== 0) throw new Error(`building the wheels failed: ${built.stderr}`);

  const files = [];
  for (const filename of readdirSync(packages).sort()) {
    if (!filename.endsWith('.whl')) continue;
    const bytes = readFileSync(path.join(packages, filename));
    const meta = path.join(packages, `${filename}.metadata`);
    files.push({
      filename, project: normalize(filename.split('-')[0]), sha256: sha256(bytes), size: bytes.length,
      metadataSha256: existsSync(meta) ? sha256(readFileSync(meta)) : undefined, urlPath: `/packages/${filename}`,
    });
  }
  const names = [...new Set(files.map((f) => f.project))].sort();
  mkdirSync(path.join(www, 'simple'), { recursive: true });
  writeFileSync(path.join(www, 'simple/index.html'), `<!DOCTYPE html><html><body>\n${names.map((n) => `<a href="/simple/${n}/">${n}</a>`).join('\n')}\n</body></html>\n`);
  writeFileSync(path.join(www, 'simple/index.json'), JSON.stringify({ meta: { 'api-version': '1.1' }, projects: names.map((name) => ({ name })) }));
  for (const name of names) {
    const own = files.filter((f) => f.project === name);
    const dir = path.join(www, 'simple', name);
    mkdirSync(dir, { recursive: true });
    const anchors = own.map((f) => {
      const meta = f.metadataSha256 ? ` data-dist-info-metadata="sha256=${f.metadataSha256}" data-core-metadata="sha256=${f.metadataSha256}"` : '';
      return `    <a href="${escapeHtml(`${filesBase}packages/${f.filename}#sha256=${f.sha256}`)}"${meta}>${f.filename}</a><br />`;
    });
    writeFileSync(path.join(dir, 'index.html'), `<!DOCTYPE html>\n<html>\n  <head><meta name="pypi:repository-version" content="1.1"><title>Links for ${name}</title></head>\n  <body>\n    <h1>Links for ${name}</h1>\n${anchors.join('\n')}\n  </body>\n</html>\n`);
    writeFileSync(path.join(dir, 'index.json'), JSON.stringify({
      meta: { 'api-version': '1.1' }, name, versions: [...new Set(own.map((f) => f.filename.split('-')[1]))],
      files: own.map((f) => ({
        filename: f.filename, url: `${filesBase}packages/${f.filename}`, hashes: { sha256: f.sha256 }, size: f.size,
        ...(f.metadataSha256 ? { 'core-metadata': { sha256: f.metadataSha256 }, 'dist-info-metadata': { sha256: f.metadataSha256 } } : {}),
      })),
    }));
  }
  return { projects: names, files };
}
