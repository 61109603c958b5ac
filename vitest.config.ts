import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/harness/global-setup.ts'],
    // Files share the real services the harness starts; one file at a time keeps them predictable.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // expect.poll waits for pages and background work; 1 s (the default) is too short on a busy shared machine.
    expect: { poll: { timeout: 10_000 } },
    reporters: ['default'],
  },
});
