import tailwindcss from "@tailwindcss/vite";
import { defineConfig } from "vite";
import solid from "vite-plugin-solid";

/** Where the API server listens in development (`pnpm dev` starts both). */
const apiTarget = "http://127.0.0.1:4317";

export default defineConfig({
  root: import.meta.dirname,
  plugins: [solid(), tailwindcss()],
  resolve: {
    // Workspace packages resolve to their TypeScript sources; type-only imports are erased anyway.
    conditions: ["@glm-workers/source", "browser", "module", "import", "default"],
  },
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
    proxy: {
      "/api": { target: apiTarget, changeOrigin: false },
      "/trpc": { target: apiTarget, changeOrigin: false },
    },
  },
  preview: { host: "127.0.0.1", port: 4173 },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
  },
});
