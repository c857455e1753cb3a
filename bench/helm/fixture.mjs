// The big index: CHARTS charts of VERSIONS versions each, entries shaped like Bitnami's (annotations,
// a block scalar, dependencies, maintainers, sources), archives on a GitHub-like host; plus one
// small real chart beside the index, the one the latency probe asks for. Deterministic.
import { createHash } from 'node:crypto';

export const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** The small chart's bytes (a stand-in archive: the proxy checks its digest, nothing else). */
export function smallChart() {
  return Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31 + 7) & 0xff));
}

const smallEntry = (digest) => `  small:\n  - apiVersion: v2\n    digest: ${digest}\n    name: small\n    urls:\n    - small-1.0.0.tgz\n    version: 1.0.0\n`;

export function smallIndex(digest, generated) {
  return `apiVersion: v1\nentries:\n${smallEntry(digest)}generated: "${generated}"\n`;
}

export function bigIndex(digest, { charts, versions, base, generated }) {
  const parts = ['apiVersion: v1\nentries:\n', smallEntry(digest)];
  for (let c = 0; c < charts; c++) {
    const name = `chart-${c}`;
    const lines = [`  ${name}:`];
    for (let v = versions - 1; v >= 0; v--) {
      const version = `${Math.floor(v / 10)}.${v % 10}.0`;
      lines.push(
        '  - annotations:', '      artifacthub.io/changes: |', `        - kind: changed\n          description: Updated ${name} to ${version}, rebuild the images on the newest base and refresh all the chart dependencies (${c}.${v})`,
        '      category: Infrastructure', '      images: |', `        - name: ${name}`,
        `          image: registry.example/library/${name}:${version}-debian-12-r${v}`, '        - name: os-shell',
        `          image: registry.example/library/os-shell:12-debian-12-r${c}`, '      licenses: Apache-2.0',
        '    apiVersion: v2', `    appVersion: ${version}`, `    created: "2024-0${1 + (v % 9)}-1${v % 10}T10:00:00.000000000Z"`,
        '    dependencies:', '    - name: common', '      repository: oci://registry.example/charts', '      tags:', '      - common', '      version: 2.x.x',
        `    description: ${name} is a fixture chart whose description is as long as the real ones, which say in one or two sentences what the software is, what it does and who maintains it.`,
        `    digest: ${sha256(`${name}-${version}`)}`, `    home: https://charts.example/${name}`, `    icon: https://charts.example/icons/${name}.svg`,
        '    keywords:', `    - ${name}`, '    - fixture', '    - infrastructure', '    maintainers:', '    - name: Fixture Maintainers', '      url: https://maintainers.example/charts',
        `    name: ${name}`, '    sources:', `    - https://source.example/${name}`, `    - https://source.example/containers/${name}`, '    urls:',
        `    - ${base}releases/download/${name}-${version}/${name}-${version}.tgz`, `    version: ${version}`,
      );
    }
    parts.push(`${lines.join('\n')}\n`);
  }
  parts.push(`generated: "${generated}"\n`);
  return parts.join('');
}
