import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { cfError } from '../errors/errors.js';
import { bucketsProblem, formatPrefix, labelNamesProblem, metricNameProblem, seriesNames } from './metric-names.js';

/** Values of a plugin metric's own labels; `remote` is always set by the core. */
export type MetricLabels<L extends string = string> = Partial<Record<L, string | number>>;

/** A metric a plugin declares: exported as `cacheforge_<format>_<name>{remote, ...labelNames}`. */
export interface MetricDefinition<L extends string = string> {
  /** The name after the format's prefix, which the core adds (`unlisted_packages_total`). */
  readonly name: string;
  readonly help: string;
  /** The plugin's own label names, besides `remote`. Keep their values few (no paths, no versions). */
  readonly labelNames?: readonly L[];
}

export interface HistogramDefinition<L extends string = string> extends MetricDefinition<L> {
  /** Upper bounds of the buckets, increasing; default prom-client's (5 ms to 10 s). */
  readonly buckets?: readonly number[];
}

/** A counter of one remote: only goes up. */
export interface PluginCounter<L extends string = string> {
  /** Adds `value` (default 1; never negative). */
  inc(value?: number): void;
  inc(labels: MetricLabels<L>, value?: number): void;
}

/** A gauge of one remote: a value that goes up and down. */
export interface PluginGauge<L extends string = string> {
  set(value: number): void;
  set(labels: MetricLabels<L>, value: number): void;
  inc(value?: number): void;
  inc(labels: MetricLabels<L>, value?: number): void;
  dec(value?: number): void;
  dec(labels: MetricLabels<L>, value?: number): void;
}

/** A histogram of one remote (durations in seconds, sizes in bytes). */
export interface PluginHistogram<L extends string = string> {
  observe(value: number): void;
  observe(labels: MetricLabels<L>, value: number): void;
}

/**
 * The metrics one remote's handler counts into, on the core's registry (served at `/-/metrics`).
 * A metric is one per format: the second remote of a format that declares the same name gets the
 * same metric, under its own `remote` label. Declare them in `createHandler`, so a name that is
 * invalid, or reused with another kind, labels or buckets, stops the start (`CF_ERR_PLUGIN_CONTRACT`).
 */
export interface PluginMetrics {
  counter<L extends string = never>(definition: MetricDefinition<L>): PluginCounter<L>;
  gauge<L extends string = never>(definition: MetricDefinition<L>): PluginGauge<L>;
  histogram<L extends string = never>(definition: HistogramDefinition<L>): PluginHistogram<L>;
}

type Kind = 'counter' | 'gauge' | 'histogram';
type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

/** One declared metric: its shape, so a later declaration of the name can be checked against it. */
interface Family {
  readonly format: string;
  readonly kind: Kind;
  readonly labelNames: readonly string[];
  readonly buckets?: readonly number[];
  readonly metric: AnyMetric;
}

/** Who is declaring: named in every error. */
interface Declarer {
  readonly format: string;
  /** How the plugin is listed in `plugins:`. */
  readonly plugin: string;
  readonly remote: string;
}

/** The metrics every plugin declared in this process, by full name. */
export class PluginMetricFamilies {
  private readonly families = new Map<string, Family>();

  constructor(private readonly registry: Registry) {}

  /** The {@link PluginMetrics} of remote `remote`, served by `plugin` (its `plugins:` entry) of format `format`. */
  forRemote(format: string, plugin: string, remote: string): PluginMetrics {
    const who: Declarer = { format, plugin, remote };
    return {
      counter: (definition) => new RemoteCounter(this.declare(who, 'counter', definition).metric as Counter<string>, remote),
      gauge: (definition) => new RemoteGauge(this.declare(who, 'gauge', definition).metric as Gauge<string>, remote),
      histogram: (definition) => new RemoteHistogram(this.declare(who, 'histogram', definition).metric as Histogram<string>, remote),
    };
  }

  private declare(who: Declarer, kind: Kind, definition: HistogramDefinition): Family {
    const family = this.family(who, kind, definition);
    // A metric with no labels of its own shows 0 for each remote from the start, not from its first count.
    if (family.labelNames.length === 0 && family.metric instanceof Counter) family.metric.inc({ remote: who.remote }, 0);
    if (family.labelNames.length === 0 && family.metric instanceof Histogram) family.metric.zero({ remote: who.remote });
    return family;
  }

  /** The metric `definition` names: made on its first declaration, checked against it on the others. */
  private family(who: Declarer, kind: Kind, definition: HistogramDefinition): Family {
    const prefix = formatPrefix(who.format);
    const named = typeof definition?.name === 'string' ? prefix + definition.name : String(definition?.name);
    const fail = (why: string) => cfError('CF_ERR_PLUGIN_CONTRACT', `plugin ${who.plugin} (remote ${who.remote}): ${why}`,
      { detail: { plugin: who.plugin, remote: who.remote, metric: named } });
    const problem = definitionProblem(kind, definition, prefix);
    if (problem) throw fail(problem);
    const shape = { kind, labelNames: [...(definition.labelNames ?? [])], buckets: kind === 'histogram' ? definition.buckets : undefined };
    const existing = this.families.get(named);
    if (existing) {
      if (existing.format !== who.format) throw fail(`metric ${named} is already declared by format ${existing.format}`);
      if (describe(existing) !== describe(shape)) {
        throw fail(`metric ${named} is declared as ${describe(shape)}, but it was declared before as ${describe(existing)}; a name is one metric for every remote of the format`);
      }
      return existing;
    }
    const clash = seriesNames(named, kind).find((series) => this.takenSeries().has(series));
    if (clash) throw fail(`metric ${named} would write the series ${clash}, which another metric of this process already writes`);
    const family: Family = { format: who.format, ...shape, metric: this.create(named, definition.help, shape) };
    this.families.set(named, family);
    return family;
  }

  private create(name: string, help: string, shape: Omit<Family, 'format' | 'metric'>): AnyMetric {
    const config = { name, help, labelNames: ['remote', ...shape.labelNames], registers: [this.registry] };
    if (shape.kind === 'counter') return new Counter(config);
    if (shape.kind === 'gauge') return new Gauge(config);
    // Only when given: prom-client's defaults apply when the key is absent, not when it is undefined.
    return new Histogram(shape.buckets ? { ...config, buckets: [...shape.buckets] } : config);
  }

  /** Every series name the registry's metrics (the core's and the plugins') already write. */
  private takenSeries(): Set<string> {
    const metrics = this.registry.getMetricsAsArray() as unknown as { name: string; type?: string }[];
    return new Set(metrics.flatMap((m) => seriesNames(m.name, m.type ?? '')));
  }
}

/** Why `definition` may not be declared as a `kind`, or undefined when it may. */
function definitionProblem(kind: Kind, definition: HistogramDefinition, prefix: string): string | undefined {
  if (!definition || typeof definition !== 'object') return `a ${kind} needs a definition { name, help }`;
  const name = metricNameProblem(definition.name, prefix);
  if (name) return name;
  if (typeof definition.help !== 'string' || definition.help.trim() === '') return `metric ${prefix}${definition.name} needs a help text`;
  const labels = labelNamesProblem(definition.labelNames);
  if (labels) return `metric ${prefix}${definition.name}: ${labels}`;
  const buckets = kind === 'histogram' ? bucketsProblem(definition.buckets) : undefined;
  return buckets ? `metric ${prefix}${definition.name}: ${buckets}` : undefined;
}

function describe(shape: Omit<Family, 'format' | 'metric'>): string {
  const labels = `labels [${['remote', ...[...shape.labelNames].sort()].join(', ')}]`;
  return `a ${shape.kind} with ${labels}${shape.buckets ? ` and buckets [${shape.buckets.join(', ')}]` : ''}`;
}

/** The arguments of an `(labels?, value?)` call, with the remote's label set. */
function args(remote: string, labels: MetricLabels | number | undefined, value: number | undefined): [Record<string, string | number>, number | undefined] {
  return typeof labels === 'object' && labels !== null ? [{ ...labels, remote }, value] : [{ remote }, labels];
}

class RemoteCounter implements PluginCounter {
  constructor(private readonly metric: Counter<string>, private readonly remote: string) {}

  inc(labels?: MetricLabels | number, value?: number): void {
    this.metric.inc(...args(this.remote, labels, value));
  }
}

class RemoteGauge implements PluginGauge {
  constructor(private readonly metric: Gauge<string>, private readonly remote: string) {}

  set(labels: MetricLabels | number, value?: number): void {
    const [all, to] = args(this.remote, labels, value);
    this.metric.set(all, to as number);
  }

  inc(labels?: MetricLabels | number, value?: number): void {
    this.metric.inc(...args(this.remote, labels, value));
  }

  dec(labels?: MetricLabels | number, value?: number): void {
    this.metric.dec(...args(this.remote, labels, value));
  }
}

class RemoteHistogram implements PluginHistogram {
  constructor(private readonly metric: Histogram<string>, private readonly remote: string) {}

  observe(labels: MetricLabels | number, value?: number): void {
    const [all, observed] = args(this.remote, labels, value);
    this.metric.observe(all, observed as number);
  }
}
