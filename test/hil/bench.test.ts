/** bench/hil-latency.ts: a short run gives a consistent report; its statistics are hand-checked. */
import { describe, expect, it } from 'vitest';
import { formatHilBench, runHilLatencyBench, stats } from '../../bench/hil-latency.js';

describe('hil-latency benchmark', () => {
  it('statistics: median, nearest-rank p99, mean, min, max', () => {
    expect(stats([5, 1, 3])).toEqual({ median: 3, p99: 5, mean: 3, min: 1, max: 5 });
    expect(stats([4, 1, 3, 2]).median).toBe(2.5);
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100 shuffled by reversal
    expect(stats(hundred).p99).toBe(99);
  });

  it('a short in-process run reports latency and throughput that agree with each other', async () => {
    const r = await runHilLatencyBench({ server: 'inprocess', requests: 200, repeats: 3 });
    expect(r.format).toBe('lechip/hil-latency@1');
    expect(r.latency.requests).toBe(200);
    expect(r.latency.min_us).toBeGreaterThan(0);
    expect(r.latency.min_us).toBeLessThanOrEqual(r.latency.median_us);
    expect(r.latency.median_us).toBeLessThanOrEqual(r.latency.p99_us);
    expect(r.latency.p99_us).toBeLessThanOrEqual(r.latency.max_us);
    expect(r.throughput.matrix).toEqual([300, 784]);
    expect(r.throughput.bytes).toBe(300 * 784 * 4);
    for (const op of [r.throughput.write, r.throughput.read]) {
      expect(op.mb_per_s).toBeCloseTo(r.throughput.bytes / 1e6 / (op.median_ms / 1000), 6);
      expect(op.in_process_median_ms).toBeGreaterThan(0);
    }
    expect(formatHilBench(r)).toMatch(/round trip \(TIME, 200 requests\): median [\d.]+ us/);
  });
});
