/**
 * The naming rules of the metrics plugins declare: Prometheus names (without the colons that are
 * reserved for recording rules), under a prefix the core chooses per format.
 */

/** A name as a plugin writes it, before the core adds `cacheforge_<format>_`. */
const METRIC_NAME = /^[a-zA-Z][a-zA-Z0-9_]{0,99}$/;
/** A label name; `__`-prefixed names are Prometheus's own. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/;
/** Labels the core sets (`remote`) or Prometheus derives (`le` of a histogram bucket). */
const RESERVED_LABELS = new Set(['remote', 'le']);
/** Series a histogram adds beside its own name; a second metric must not take them. */
const HISTOGRAM_SERIES = ['_bucket', '_sum', '_count'];

/** `cacheforge_<format>_`: a format's name may hold `-`, which Prometheus names may not. */
export function formatPrefix(format: string): string {
  return `cacheforge_${format.replaceAll('-', '_')}_`;
}

/** Why `name` may not be a plugin's metric name, or undefined when it may. */
export function metricNameProblem(name: unknown, prefix: string): string | undefined {
  if (typeof name !== 'string' || !METRIC_NAME.test(name)) {
    return `metric name ${JSON.stringify(name)} is not a valid name: a letter, then letters, digits and _ (at most 100)`;
  }
  // A plugin names the part after the prefix; writing the prefix too would double it.
  if (name.startsWith('cacheforge_')) return `metric name "${name}" must not include the prefix: the core adds ${prefix} itself`;
  return undefined;
}

/** Why `labelNames` may not be a plugin metric's own labels, or undefined when they may. */
export function labelNamesProblem(labelNames: unknown): string | undefined {
  if (labelNames === undefined) return undefined;
  if (!Array.isArray(labelNames)) return 'labelNames must be a list of label names';
  const seen = new Set<string>();
  for (const label of labelNames as unknown[]) {
    if (typeof label !== 'string' || !LABEL_NAME.test(label) || label.startsWith('__')) {
      return `label name ${JSON.stringify(label)} is not a valid label name`;
    }
    if (RESERVED_LABELS.has(label)) return `label name "${label}" is reserved (the core sets remote; le is a histogram's)`;
    if (seen.has(label)) return `label name "${label}" is listed twice`;
    seen.add(label);
  }
  return undefined;
}

/** Why `buckets` may not be a histogram's upper bounds, or undefined when they may. */
export function bucketsProblem(buckets: unknown): string | undefined {
  if (buckets === undefined) return undefined;
  const ok = Array.isArray(buckets) && buckets.length > 0
    && buckets.every((b, i) => typeof b === 'number' && Number.isFinite(b) && (i === 0 || b > (buckets[i - 1] as number)));
  return ok ? undefined : 'buckets must be a non-empty list of finite, increasing numbers';
}

/** Every name a metric's samples and metadata are written under (a histogram adds three series). */
export function seriesNames(name: string, kind: string): string[] {
  return kind === 'histogram' ? [name, ...HISTOGRAM_SERIES.map((suffix) => name + suffix)] : [name];
}
