import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vitest/config";
import { faceDetectorAssets } from "./scripts/face-detector-assets.ts";

// The gateway serves the built dashboard and the API from one origin; in `vite dev` the
// proxy gives the same single origin, so the SameSite=Strict refresh cookie still works.
const gateway = process.env["GATEWAY_URL"] ?? "http://localhost:8080";

export default defineConfig({
  plugins: [vue(), faceDetectorAssets()],
  server: { proxy: { "/v1": { target: gateway, changeOrigin: false } } },
  preview: { proxy: { "/v1": { target: gateway, changeOrigin: false } } },
  build: {
    outDir: "dist",
    // scripts/size.ts reads the manifest to find the entry chunk and its static imports.
    manifest: true,
    target: "es2022",
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.ts", "scripts/**/*.test.ts"],
    restoreMocks: true,
    unstubGlobals: true,
  },
});
