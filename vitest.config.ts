import { defineConfig } from 'vitest/config';
import { splitTests } from './test/support/projects.js';

// `unit`: files that need no services, in parallel, no global setup. `integration`: files that use the
// harness (test/support/projects.ts decides from their imports), with the services started once.
const { unit, integration } = splitTests(import.meta.dirname);

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // expect.poll waits for pages and background work; 1 s (the default) is too short on a busy shared machine,
    // and 10 s timed a browser test out under load. As generous as test/support/eventually.ts.
    expect: { poll: { timeout: 20_000 } },
    reporters: ['default'],
    projects: [
      // Unit files first, in parallel; then the integration files alone, so they do not compete for the CPU.
      { extends: true, test: { name: 'unit', include: unit, sequence: { groupOrder: 0 } } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: integration,
          sequence: { groupOrder: 1 },
          globalSetup: ['test/harness/global-setup.ts'],
          // Files share the real services the harness starts; one file at a time keeps them predictable.
          fileParallelism: false,
        },
      },
    ],
  },
});
