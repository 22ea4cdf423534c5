import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["@glm-workers/source"] },
  ssr: {
    resolve: { conditions: ["@glm-workers/source"], externalConditions: ["@glm-workers/source"] },
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "apps/*/test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    reporters: ["default", "./scripts/summary-reporter.ts"],
    env: { NODE_OPTIONS: "--conditions=@glm-workers/source" },
  },
});
