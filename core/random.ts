/**
 * mulberry32: a small seeded PRNG. The same seed gives the same numbers everywhere, so fuzz runs
 * replay and the demo's lines stay the same within an hour (restarts store nothing twice).
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
