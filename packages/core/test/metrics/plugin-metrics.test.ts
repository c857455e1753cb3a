import { expect } from 'chai';
import { Metrics } from '../../src/metrics/metrics.js';
import { formatPrefix } from '../../src/metrics/metric-names.js';

/** The samples of `name`, as `{labels} value` lines with sorted labels, from the registry's text. */
async function lines(metrics: Metrics, name: string): Promise<string[]> {
  const text = await metrics.registry.metrics();
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).map((l) => l.slice(name.length)).sort();
}

describe('plugin metrics: one family per format, one remote label per context', () => {
  it('gives the second remote the same metric under its own remote label, whatever the order of the labels', async () => {
    const metrics = new Metrics();
    const a = metrics.plugins.forRemote('alpine', './alpine.js', 'edge');
    const b = metrics.plugins.forRemote('alpine', './alpine.js', 'stable');
    a.counter({ name: 'unlisted_packages_total', help: 'h', labelNames: ['arch', 'repo'] }).inc({ arch: 'x86_64', repo: 'main' });
    const forB = b.counter({ name: 'unlisted_packages_total', help: 'h', labelNames: ['repo', 'arch'] });
    forB.inc({ arch: 'x86_64', repo: 'main' }, 2);
    // The plugin's labels cannot move a count to another remote.
    forB.inc({ arch: 'aarch64', remote: 'edge' } as never);
    expect(await lines(metrics, 'cacheforge_alpine_unlisted_packages_total')).to.deep.equal([
      '{arch="aarch64",remote="stable"} 1',
      '{arch="x86_64",repo="main",remote="edge"} 1',
      '{arch="x86_64",repo="main",remote="stable"} 2',
    ]);
  });

  it('gauges set, go up and down per remote; histograms count per remote', async () => {
    const metrics = new Metrics();
    const depth = metrics.plugins.forRemote('maven', 'm', 'central').gauge({ name: 'queue_depth', help: 'h' });
    const depthOther = metrics.plugins.forRemote('maven', 'm', 'internal').gauge({ name: 'queue_depth', help: 'h' });
    depth.set(5);
    depth.inc();
    depth.dec(3);
    depthOther.set(7);
    expect(await lines(metrics, 'cacheforge_maven_queue_depth')).to.deep.equal(['{remote="central"} 3', '{remote="internal"} 7']);
    const sizes = metrics.plugins.forRemote('maven', 'm', 'central').histogram({ name: 'pom_bytes', help: 'h', labelNames: ['kind'], buckets: [1, 10] });
    sizes.observe({ kind: 'pom' }, 5);
    expect(await lines(metrics, 'cacheforge_maven_pom_bytes_count')).to.deep.equal(['{kind="pom",remote="central"} 1']);
  });

  it('refuses the same name with other labels, and one format taking another\'s name', () => {
    const metrics = new Metrics();
    metrics.plugins.forRemote('go', './go.js', 'proxy').counter({ name: 'x_total', help: 'h', labelNames: ['kind'] });
    expect(() => metrics.plugins.forRemote('go', './go.js', 'private').counter({ name: 'x_total', help: 'h' })).to.throw(
      'plugin ./go.js (remote private): metric cacheforge_go_x_total is declared as a counter with labels [remote], but it was declared before as a counter with labels [remote, kind]',
    );
    metrics.plugins.forRemote('my-format', './a.js', 'r').counter({ name: 'b_total', help: 'h' });
    expect(() => metrics.plugins.forRemote('my', './b.js', 'r').counter({ name: 'format_b_total', help: 'h' })).to.throw(
      'plugin ./b.js (remote r): metric cacheforge_my_format_b_total is already declared by format my-format',
    );
    const h = metrics.plugins.forRemote('go', './go.js', 'proxy');
    h.histogram({ name: 'zip_seconds', help: 'h', buckets: [1, 2] });
    expect(() => h.histogram({ name: 'zip_seconds', help: 'h', buckets: [1, 3] })).to.throw(/declared as a histogram with labels \[remote\] and buckets \[1, 3\]/);
  });

  it('prefixes a format whose name has a hyphen with an underscore (Prometheus names have none)', () => {
    expect(formatPrefix('my-format')).to.equal('cacheforge_my_format_');
    expect(formatPrefix('npm')).to.equal('cacheforge_npm_');
  });
});
