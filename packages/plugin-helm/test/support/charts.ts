import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** One ustar header block for a regular file. */
function tarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  const field = (value: string, offset: number, length: number) => header.write(value, offset, length, 'ascii');
  field(name, 0, 100);
  field('0000644\0', 100, 8);
  field('0000000\0', 108, 8);
  field('0000000\0', 116, 8);
  field(`${size.toString(8).padStart(11, '0')}\0`, 124, 12);
  field(`${(1_700_000_000).toString(8).padStart(11, '0')}\0`, 136, 12);
  field('        ', 148, 8);
  field('0', 156, 1);
  field('ustar\0', 257, 6);
  field('00', 263, 2);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return header;
}

/** A gzip'd tar of `files` (path → text), made the same way every time (fixed mtimes, no gzip name or time). */
export function tarGz(files: Readonly<Record<string, string>>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text);
    blocks.push(tarHeader(name, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks), { level: 9 });
}

/** A real chart archive: `Chart.yaml`, `values.yaml` and one template, all under `<name>/` as helm packages them. */
export function chartArchive(name: string, version: string, message = 'hello'): Buffer {
  return tarGz({
    [`${name}/Chart.yaml`]: `apiVersion: v2\nname: ${name}\nversion: ${version}\nappVersion: "1.0"\ndescription: Cache Forge fixture chart\ntype: application\n`,
    [`${name}/values.yaml`]: `message: ${message}\n`,
    [`${name}/templates/configmap.yaml`]: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  message: {{ .Values.message | quote }}\n',
  });
}

/** One version of a chart as an index lists it. */
export interface IndexedChart {
  readonly name: string;
  readonly version: string;
  /** The digest the index gives (normally the archive's). */
  readonly digest: string;
  readonly urls: readonly string[];
}

/** An `index.yaml` as `helm repo index` writes it: entries by name, newest version first. */
export function indexYaml(charts: readonly IndexedChart[]): string {
  const byName = new Map<string, IndexedChart[]>();
  for (const chart of charts) byName.set(chart.name, [...(byName.get(chart.name) ?? []), chart]);
  let text = 'apiVersion: v1\nentries:\n';
  for (const [name, versions] of byName) {
    text += `  ${name}:\n`;
    for (const c of [...versions].reverse()) {
      text += `  - apiVersion: v2\n    appVersion: "1.0"\n    created: "2024-05-01T10:00:00.000000000Z"\n    description: Cache Forge fixture chart\n`
        + `    digest: ${c.digest}\n    name: ${name}\n    type: application\n    urls:\n${c.urls.map((u) => `    - ${u}\n`).join('')}    version: ${c.version}\n`;
    }
  }
  return `${text}generated: "2024-05-01T10:00:00.000000000Z"\n`;
}
