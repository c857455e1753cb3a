import { FakeUpstream } from '@cacheforge/core/testing';
import { chartArchive, indexYaml, sha256, type IndexedChart } from './charts.js';

/** Where the repository lives on its host. */
export const REPO_PATH = '/charts/stable/';

/**
 * A chart repository on three real HTTP servers on 127.0.0.1, as public ones are laid out: the
 * repository host serves `index.yaml` and one chart beside it (a relative URL); a GitHub-like
 * host answers a release download with a redirect to a CDN-like host, which serves the bytes
 * (an absolute URL on another host). `tampered` is listed with the digest of other bytes than
 * those served.
 */
export class ChartRepo {
  readonly repo = new FakeUpstream();
  readonly github = new FakeUpstream();
  readonly cdn = new FakeUpstream();
  /** The archives as published, by `<name>-<version>`. */
  readonly charts = {
    'hello-0.1.0': chartArchive('hello', '0.1.0'),
    'hello-0.2.0': chartArchive('hello', '0.2.0'),
    'tampered-1.0.0': chartArchive('tampered', '1.0.0'),
  };
  readonly provenance = Buffer.from('-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nname: hello\nversion: 0.1.0\n');
  indexText = '';

  async start(): Promise<this> {
    await Promise.all([this.repo.start(), this.github.start(), this.cdn.start()]);
    const release = `owner/charts/releases/download/hello-0.2.0/hello-0.2.0.tgz`;
    const object = `/objects/${sha256(this.charts['hello-0.2.0'])}`;
    const listed: IndexedChart[] = [
      { name: 'hello', version: '0.1.0', digest: sha256(this.charts['hello-0.1.0']), urls: ['charts/hello-0.1.0.tgz'] },
      { name: 'hello', version: '0.2.0', digest: sha256(this.charts['hello-0.2.0']), urls: [`${this.github.url}${release}`] },
      { name: 'tampered', version: '1.0.0', digest: sha256(this.charts['tampered-1.0.0']), urls: ['charts/tampered-1.0.0.tgz'] },
    ];
    this.indexText = indexYaml(listed);
    this.repo.set(`${REPO_PATH}index.yaml`, { body: Buffer.from(this.indexText), etag: `"${sha256(Buffer.from(this.indexText)).slice(0, 16)}"`, headers: { 'content-type': 'text/yaml' } });
    this.repo.set(`${REPO_PATH}charts/hello-0.1.0.tgz`, { body: this.charts['hello-0.1.0'], headers: { 'content-type': 'application/gzip' } });
    this.repo.set(`${REPO_PATH}charts/hello-0.1.0.tgz.prov`, { body: this.provenance });
    // Other bytes than the index's digest names: the same chart with other values.
    this.repo.set(`${REPO_PATH}charts/tampered-1.0.0.tgz`, { body: chartArchive('tampered', '1.0.0', 'tampered') });
    this.github.set(`/${release}`, { redirectTo: `${this.cdn.url.slice(0, -1)}${object}` });
    this.cdn.set(object, { body: this.charts['hello-0.2.0'], headers: { 'content-type': 'application/octet-stream' } });
    return this;
  }

  get upstream(): string {
    return `${this.repo.url.slice(0, -1)}${REPO_PATH}`;
  }

  /** The hosts a remote must allow to cache every chart: the GitHub-like one and the CDN it redirects to. */
  get allowedHosts(): string[] {
    return [new URL(this.github.url).host, new URL(this.cdn.url).host];
  }

  /** Every request the three hosts saw. */
  get seen() {
    return [...this.repo.requests, ...this.github.requests, ...this.cdn.requests];
  }

  async stop(): Promise<void> {
    await Promise.all([this.repo.stop(), this.github.stop(), this.cdn.stop()]);
  }
}
