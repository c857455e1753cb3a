import { createHash } from 'node:crypto';

/**
 * An index shaped like a big public one (Bitnami's): `charts` charts of `versions` versions
 * each, every entry with annotations, a block scalar, dependencies, maintainers and sources, and
 * its archive on `base` (absolute URLs, as on GitHub releases). The same text every time.
 */
export function generateIndex(charts: number, versions: number, base: string): string {
  const lines = ['apiVersion: v1', 'entries:'];
  for (let c = 0; c < charts; c++) {
    const name = `chart-${c}`;
    lines.push(`  ${name}:`);
    for (let v = versions - 1; v >= 0; v--) {
      const version = `${Math.floor(v / 10)}.${v % 10}.0`;
      const digest = createHash('sha256').update(`${name}-${version}`).digest('hex');
      lines.push(
        '  - annotations:', '      category: Infrastructure', '      images: |', `        - name: ${name}`,
        `          image: registry.example/library/${name}:${version}-r${v}`, '      licenses: Apache-2.0',
        '    apiVersion: v2', `    appVersion: ${version}`, `    created: "2024-0${1 + (v % 9)}-1${v % 10}T10:00:00.000000000Z"`,
        '    dependencies:', '    - name: common', '      repository: oci://registry.example/charts', '      tags:', '      - common', '      version: 2.x.x',
        `    description: ${name} is a fixture chart with a description as long as real ones, which say in a sentence or two what the software is.`,
        `    digest: ${digest}`, `    home: https://charts.example/${name}`, `    icon: https://charts.example/icons/${name}.svg`,
        '    keywords:', `    - ${name}`, '    - fixture', '    maintainers:', '    - name: Fixture Maintainers', '      url: https://maintainers.example/',
        `    name: ${name}`, '    sources:', `    - https://source.example/${name}`, '    urls:',
        `    - ${base}releases/download/${name}-${version}/${name}-${version}.tgz`, `    version: ${version}`,
      );
    }
  }
  lines.push('generated: "2024-01-01T00:00:00.000000000Z"', '');
  return lines.join('\n');
}
