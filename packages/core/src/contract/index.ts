/** The contract between the core and a format plugin: types only, plus `definePlugin`. */
export * from './format-plugin.js';
export * from './remote.js';
export * from './request.js';
export * from './documents.js';
export * from './pipeline.js';
export * from './verification.js';
export * from './handler.js';
export * from './mount.js';
export * from './upstream-auth.js';
export * from './learned-hosts.js';
export * from './plugin-store.js';
export * from './error-body.js';
export * from './partial-reader.js';
export type {
  PluginMetrics, PluginCounter, PluginGauge, PluginHistogram, MetricDefinition, HistogramDefinition, MetricLabels,
} from '../metrics/plugin-metrics.js';
