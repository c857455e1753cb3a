import type { OperationMeter, OperationMetrics } from '../metrics/operations.js';
import type { AccessCount, ArtifactId, ArtifactRecord, MetadataStore, NewArtifactRecord } from './metadata.js';

/** Any {@link MetadataStore} with each call timed and each failure counted by code. */
export class MeasuredMetadataStore implements MetadataStore {
  private readonly meter: OperationMeter;

  constructor(private readonly inner: MetadataStore, metrics: OperationMetrics) {
    this.meter = metrics.meter(inner.name);
  }

  get name(): string {
    return this.inner.name;
  }

  init(): Promise<void> {
    return this.meter.measure('init', () => this.inner.init());
  }

  getArtifact(id: ArtifactId): Promise<ArtifactRecord | undefined> {
    return this.meter.measure('getArtifact', () => this.inner.getArtifact(id));
  }

  putArtifact(record: NewArtifactRecord): Promise<void> {
    return this.meter.measure('putArtifact', () => this.inner.putArtifact(record));
  }

  markChecked(id: ArtifactId, checkedAt: number): Promise<void> {
    return this.meter.measure('markChecked', () => this.inner.markChecked(id, checkedAt));
  }

  deleteArtifact(id: ArtifactId): Promise<boolean> {
    return this.meter.measure('deleteArtifact', () => this.inner.deleteArtifact(id));
  }

  recordAccess(batch: readonly AccessCount[]): Promise<void> {
    return this.meter.measure('recordAccess', () => this.inner.recordAccess(batch));
  }

  listArtifacts(query: { remote?: string; afterKey?: string; limit: number }): Promise<ArtifactRecord[]> {
    return this.meter.measure('listArtifacts', () => this.inner.listArtifacts(query));
  }

  countBlobReferences(digest: string): Promise<number> {
    return this.meter.measure('countBlobReferences', () => this.inner.countBlobReferences(digest));
  }

  ping(): Promise<void> {
    return this.meter.measure('ping', () => this.inner.ping());
  }

  close(): Promise<void> {
    return this.meter.measure('close', () => this.inner.close());
  }
}
