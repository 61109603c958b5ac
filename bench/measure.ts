/** Runs each variant several times, interleaved, and reports medians: machines here are shared and noisy. */
export async function compare(
  title: string,
  unit: string,
  variants: Record<string, () => Promise<number>>,
  rounds = 5,
): Promise<void> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (const [name, run] of Object.entries(variants)) {
      const started = process.hrtime.bigint();
      const items = await run();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      samples[name]!.push(items / seconds);
    }
  }
  const medians = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
  const [baselineName] = Object.keys(variants);
  const baseline = medians[baselineName!]!;
  console.log(`\n${title} (median of ${rounds} rounds)`);
  for (const [name, value] of Object.entries(medians)) {
    const ratio = name === baselineName ? 'baseline' : `${(value / baseline).toFixed(1)}× baseline`;
    console.log(`  ${name.padEnd(42)} ${Math.round(value).toLocaleString('en-US').padStart(12)} ${unit}  ${ratio}`);
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
