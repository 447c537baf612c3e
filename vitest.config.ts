import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Native code and threads: each test file in its own process.
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/leak-gate.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
