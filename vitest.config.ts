import { defineConfig } from 'vitest/config';
import { splitTests } from './test/support/projects.js';

// `unit`: files that need no services, in parallel, no global setup. `integration`: files that use the
// harness (test/support/projects.ts decides from their imports), with the services started once.
const { unit, integration } = splitTests(import.meta.dirname);

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // expect.poll waits for pages and background work; 1 s (the default) is too short on a busy shared machine.
    expect: { poll: { timeout: 10_000 } },
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: unit } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: integration,
          globalSetup: ['test/harness/global-setup.ts'],
          // Files share the real services the harness starts; one file at a time keeps them predictable.
          fileParallelism: false,
        },
      },
    ],
  },
});
