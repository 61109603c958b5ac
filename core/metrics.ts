import { Registry, collectDefaultMetrics, Counter, Gauge, Histogram } from 'prom-client';

export const METRIC_PREFIX = 'shouwang_';

/** One registry per process: default Node metrics plus ours, all named `shouwang_*`. */
export function createMetricsRegistry(options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}

type Named<T> = Omit<T, 'registers' | 'name'> & { name: string };

export function counter<L extends string>(registry: Registry, options: Named<ConstructorParameters<typeof Counter<L>>[0]>) {
  return new Counter<L>({ ...options, name: METRIC_PREFIX + options.name, registers: [registry] });
}

export function gauge<L extends string>(registry: Registry, options: Named<ConstructorParameters<typeof Gauge<L>>[0]>) {
  return new Gauge<L>({ ...options, name: METRIC_PREFIX + options.name, registers: [registry] });
}

export function histogram<L extends string>(
  registry: Registry,
  options: Named<ConstructorParameters<typeof Histogram<L>>[0]>,
) {
  return new Histogram<L>({ ...options, name: METRIC_PREFIX + options.name, registers: [registry] });
}
