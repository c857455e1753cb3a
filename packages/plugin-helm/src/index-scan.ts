import { CST, Lexer, parse } from 'yaml';
import { EntryCollector, type IndexScan } from './index-listing.js';

/** The reader met a construct it does not follow (anchors' aliases, flow-style entries): read the whole document instead. */
export class UnsupportedShape extends Error {}

type Frame = { readonly kind: 'map'; readonly indent: number; key?: string } | { readonly kind: 'seq'; readonly indent: number; index: number };
type PathPart = string | number | undefined;

interface Scalar {
  readonly source: string;
  readonly start: number;
  readonly col: number;
  readonly block: boolean;
}

/** Control tokens the lexer adds that are not part of the text. */
const DOCUMENT = '\x02';
const FLOW_ERROR = '\x18';
const SCALAR_NEXT = '\x1f';
/** Give the event loop back after this much work in one turn (ms). */
const SLICE_MS = 8;

/**
 * Reads a chart index with `yaml`'s lexer, one token at a time, following only the block
 * structure (indentation, keys, sequence items, flow collections) to find each entry's name,
 * version, digest and URLs and where the URLs are written. It builds no document tree, so a
 * 30 MB index costs little memory, and it yields to the event loop every few milliseconds, so
 * requests go on being served while it reads. Shapes it does not follow throw
 * {@link UnsupportedShape}; the caller then parses the whole document.
 */
export async function scanIndex(text: string): Promise<IndexScan> {
  const reader = new BlockReader();
  let scalarNext = false;
  let blockNext = false;
  let sliceStart = performance.now();
  let count = 0;
  for (const token of new Lexer().lex(text)) {
    if (++count % 512 === 0 && performance.now() - sliceStart > SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
    if (token === DOCUMENT) continue;
    if (token === FLOW_ERROR) throw new UnsupportedShape('a flow collection ends unexpectedly');
    if (token === SCALAR_NEXT) { scalarNext = true; continue; }
    const start = reader.advance(token);
    if (scalarNext) {
      scalarNext = false;
      reader.scalar({ source: token, start, col: reader.column(start), block: blockNext });
      blockNext = false;
      continue;
    }
    switch (CST.tokenType(token)) {
      case 'newline': case 'doc-end': reader.lineEnd(); break;
      case 'map-value-ind': reader.mapValue(); break;
      case 'seq-item-ind': reader.seqItem(reader.column(start)); break;
      case 'flow-seq-start': case 'flow-map-start': reader.flowStart(token); break;
      case 'flow-seq-end': case 'flow-map-end': reader.flowEnd(); break;
      case 'comma': reader.comma(); break;
      case 'single-quoted-scalar': case 'double-quoted-scalar':
        reader.scalar({ source: token, start, col: reader.column(start), block: false });
        break;
      case 'block-scalar-header': blockNext = true; break;
      case 'alias': throw new UnsupportedShape('an alias');
      case 'explicit-key-ind': throw new UnsupportedShape('an explicit key');
      default: break; // spaces, comments, anchors, tags, directives, document start
    }
  }
  reader.lineEnd();
  return reader.collector.result();
}

/** The block structure seen so far, and what the index's entries are. */
class BlockReader {
  readonly collector = new EntryCollector();
  private readonly frames: Frame[] = [];
  private offset = 0;
  private lineStart = 0;
  private pending?: Scalar;
  private flowDepth = 0;
  private flowPath: PathPart[] = [];
  private flowMode: 'urls' | 'empty' | 'ignore' = 'ignore';
  private flowIndex = 0;

  /** Moves past `token`; returns where it starts. */
  advance(token: string): number {
    const start = this.offset;
    this.offset += token.length;
    const newline = token.lastIndexOf('\n');
    if (newline >= 0) this.lineStart = start + newline + 1;
    return start;
  }

  column(start: number): number {
    return start - this.lineStart;
  }

  scalar(scalar: Scalar): void {
    this.flush();
    if (scalar.block) this.value(scalar);
    else this.pending = scalar;
  }

  lineEnd(): void {
    this.flush();
  }

  /** `:` — the scalar before it was a key. */
  mapValue(): void {
    const key = this.pending;
    this.pending = undefined;
    if (this.flowDepth > 0) {
      if (this.flowMode !== 'ignore') throw new UnsupportedShape('a mapping where chart URLs are listed');
      return;
    }
    if (!key) throw new UnsupportedShape('an empty key');
    const k = key.col;
    this.popWhile((top) => top.indent > k || (top.kind === 'seq' && top.indent === k));
    const top = this.frames.at(-1);
    if (top?.kind === 'map' && top.indent === k) top.key = decode(key.source);
    else this.frames.push({ kind: 'map', indent: k, key: decode(key.source) });
  }

  seqItem(col: number): void {
    this.flush();
    if (this.flowDepth > 0) throw new UnsupportedShape('a block sequence inside a flow collection');
    this.popWhile((top) => top.indent > col);
    const top = this.frames.at(-1);
    if (top?.kind === 'seq' && top.indent === col) top.index += 1;
    else this.frames.push({ kind: 'seq', indent: col, index: 0 });
  }

  flowStart(token: string): void {
    this.flush();
    this.flowDepth += 1;
    if (this.flowDepth > 1) {
      if (this.flowMode !== 'ignore') throw new UnsupportedShape('nested flow collections where chart URLs are listed');
      return;
    }
    this.flowPath = this.path();
    this.flowIndex = 0;
    const [root, , index, field] = this.flowPath;
    const inEntries = root === 'entries';
    if (inEntries && this.flowPath.length === 4 && typeof index === 'number' && field === 'urls' && token === '[') this.flowMode = 'urls';
    else if ((inEntries && this.flowPath.length <= 3) || this.flowPath.length === 0) this.flowMode = 'empty';
    else this.flowMode = 'ignore';
  }

  flowEnd(): void {
    this.flush();
    this.flowDepth = Math.max(0, this.flowDepth - 1);
  }

  comma(): void {
    this.flush();
    if (this.flowDepth === 1) this.flowIndex += 1;
  }

  private flush(): void {
    if (!this.pending) return;
    const scalar = this.pending;
    this.pending = undefined;
    this.value(scalar);
  }

  private value(scalar: Scalar): void {
    if (this.flowDepth > 0) {
      if (this.flowMode === 'empty') throw new UnsupportedShape('the index or one of its entries is written in flow style');
      if (this.flowMode === 'urls' && this.flowDepth === 1) this.record([...this.flowPath, this.flowIndex], scalar);
      return;
    }
    this.record(this.path(), scalar);
  }

  private record(path: readonly PathPart[], scalar: Scalar): void {
    const [root, chart, index, field, item] = path;
    if (root !== 'entries' || typeof chart !== 'string' || typeof index !== 'number' || typeof field !== 'string') return;
    if (path.length === 4 && (field === 'name' || field === 'version' || field === 'digest')) {
      if (scalar.block) throw new UnsupportedShape(`a block scalar as ${field}`);
      this.collector.field(chart, index, field, decode(scalar.source));
    } else if (path.length === 5 && field === 'urls' && typeof item === 'number') {
      if (scalar.block) throw new UnsupportedShape('a block scalar as a chart URL');
      this.collector.url(chart, index, { start: scalar.start, end: scalar.start + scalar.source.length, value: decode(scalar.source) });
    }
  }

  private path(): PathPart[] {
    return this.frames.map((f) => (f.kind === 'map' ? f.key : f.index));
  }

  private popWhile(test: (top: Frame) => boolean): void {
    while (this.frames.length > 0 && test(this.frames.at(-1)!)) this.frames.pop();
  }
}

/** A scalar's value from its source: plain and simply quoted ones directly, the rest by `yaml` itself. */
function decode(source: string): string {
  const first = source[0];
  if (first !== '"' && first !== '\'') return source.includes('\n') ? source.split(/\s*\n\s*/).join(' ').trim() : source.trim();
  const inner = source.slice(1, -1);
  if (!source.includes('\n') && (first === '\'' ? true : !inner.includes('\\'))) return first === '\'' ? inner.replace(/''/g, '\'') : inner;
  return String(parse(source));
}
