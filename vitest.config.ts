import { defineConfig } from "vitest/config";

const ALL = ["packages/*/test/**/*.test.{ts,tsx}", "apps/*/test/**/*.test.ts"];
/** Tests with the real opencode binary: CPU-heavy start-ups, so one file at a time, last. */
const AGENT = ["packages/*/test/**/*.agent.test.ts", "apps/*/test/**/*.agent.test.ts"];

export default defineConfig({
  resolve: { conditions: ["@glm-workers/source"] },
  ssr: {
    resolve: { conditions: ["@glm-workers/source"], externalConditions: ["@glm-workers/source"] },
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    reporters: ["default", "./scripts/summary-reporter.ts"],
    env: { NODE_OPTIONS: "--conditions=@glm-workers/source" },
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ALL, exclude: AGENT, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: "agent",
          include: AGENT,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
