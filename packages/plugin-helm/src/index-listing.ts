/** What a chart repository's `index.yaml` says, as this plugin needs it. */

/** One version of a chart, as its index entry lists it. */
export interface ChartEntry {
  readonly name: string;
  readonly version?: string;
  /** The sha256 of the chart archive (hex), as `helm repo index` writes it. */
  readonly digest?: string;
  /** Where the archive is, as written (relative to the repository URL, or absolute). */
  readonly urls: readonly string[];
}

/** Where one chart URL is written in the index text (UTF-16 offsets), and its value. */
export interface UrlSpan {
  readonly start: number;
  readonly end: number;
  readonly value: string;
}

/** An index read once per stored version: its entries, and where their URLs are written. */
export interface IndexScan {
  readonly entries: readonly ChartEntry[];
  /** In text order. */
  readonly spans: readonly UrlSpan[];
}

/** Collects entries field by field, in the order a reader meets them. */
export class EntryCollector {
  readonly entries: { name: string; version?: string; digest?: string; urls: string[] }[] = [];
  readonly spans: UrlSpan[] = [];
  private current?: { readonly id: string; entry: EntryCollector['entries'][number] };

  /** A scalar field (`name`, `version`, `digest`) of entry `index` of chart `chart`. */
  field(chart: string, index: number, key: string, value: string): void {
    const entry = this.entry(chart, index);
    if (key === 'name') entry.name = value;
    else if (key === 'version') entry.version = value;
    else if (key === 'digest') entry.digest = value;
  }

  /** One of the entry's `urls`, with where it is written. */
  url(chart: string, index: number, span: UrlSpan): void {
    this.entry(chart, index).urls.push(span.value);
    this.spans.push(span);
  }

  result(): IndexScan {
    return { entries: this.entries, spans: this.spans };
  }

  private entry(chart: string, index: number) {
    const id = `${chart}\u0000${index}`;
    if (this.current?.id !== id) {
      const entry = { name: chart, urls: [] as string[] };
      this.entries.push(entry);
      this.current = { id, entry };
    }
    return this.current.entry;
  }
}

/** The digest as an index writes it: hex, sometimes with a `sha256:` prefix. */
export function sha256Hex(digest: string | undefined): string | undefined {
  const hex = digest?.trim().replace(/^sha256:/i, '');
  return hex && /^[0-9a-fA-F]{64}$/.test(hex) ? hex.toLowerCase() : undefined;
}
