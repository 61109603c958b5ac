import { describe, expect, it } from 'vitest';
import { distributedAnalysisOptions } from '../../../analyzers/index.js';
import { ConfigSchema, ENV_VARIABLES, type Config } from '../../../core/index.js';

// analyze.distributed → startAnalysis options: off by default, and never without a shared Redis.

/** As loadConfig resolves it (the store is decided from elasticsearch.url). */
const parse = (input: unknown): Config => ({ ...ConfigSchema.parse(input), store: 'embedded' });

describe('analyze.distributed settings', () => {
  it('leave correlation in the process by default', () => {
    const config = parse({});
    expect(config.analyze.distributed).toEqual({ enabled: false, partitions: 16, keyPrefix: 'shouwang:correlation:', lease: 10, correlate: true });
    expect(distributedAnalysisOptions(config)).toEqual({});
  });

  it('need redis.url when enabled (a local redis-server is no place to share windows), naming the setting', () => {
    const config = parse({ analyze: { distributed: { enabled: true } } });
    expect(() => distributedAnalysisOptions(config)).toThrow(/redis\.url.*analyze\.distributed\.enabled/s);
    const shared = parse({ redis: { url: 'redis://10.0.0.5:6379' }, analyze: { distributed: { enabled: true, lease: '3s', partitions: 32, correlate: false } } });
    expect(distributedAnalysisOptions(shared)).toEqual({
      distributed: { redis: 'redis://10.0.0.5:6379', keyPrefix: 'shouwang:correlation:', partitions: 32, leaseMs: 3000, correlate: false },
    });
  });

  it('refuse nonsense: no partitions, too many, a lease that is not a duration', () => {
    for (const distributed of [{ partitions: 0 }, { partitions: 5000 }, { partitions: 1.5 }, { lease: '0s' }, { lease: 'soon' }, { keyPrefix: '' }, { extra: 1 }]) {
      expect(ConfigSchema.safeParse({ analyze: { distributed } }).success, JSON.stringify(distributed)).toBe(false);
    }
    expect(ENV_VARIABLES.has('SHOUWANG_ANALYZE_DISTRIBUTED_ENABLED')).toBe(true);
    expect(ENV_VARIABLES.has('SHOUWANG_ANALYZE_DISTRIBUTED_LEASE')).toBe(true);
  });
});
