import { defineConfig } from 'vitest/config';

// The integration suites share one local platform per file (DynamoDB Local and s3rver are child
// processes), so files run in forks and the two cores are not oversubscribed.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/**/*.slow.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 90_000,
  },
});
