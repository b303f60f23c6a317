/// <reference types="vitest/config" />
import { fileURLToPath } from "node:url";

import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The Django server that `npm run dev` proxies to (make run's web process by default).
const backend = process.env.CDSS_BACKEND ?? "http://127.0.0.1:8000";

export default defineConfig(({ command }) => ({
  // Built assets are collected by Django (cdss.web's finder) and served by WhiteNoise under
  // STATIC_URL + "web/"; hashed files in assets/ are cached as immutable.
  base: command === "build" ? "/static/web/" : "/",
  plugins: [react()],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  // Django replaces the placeholder with a fresh nonce per response and names it in the
  // Content-Security-Policy header (cdss/web/views.py); Mantine reads it from the meta tag.
  html: { cspNonce: "__CSP_NONCE__" },
  // plotly.js (the 3D viewer, ~1.4 MB gzip) is its own lazily loaded chunk; the first load stays small.
  build: { outDir: "dist", assetsDir: "assets", sourcemap: false, chunkSizeWarningLimit: 5000 },
  server: {
    proxy: {
      "/api": backend,
      "/ml": backend,
      "/ws": { target: backend.replace(/^http/, "ws"), ws: true },
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    css: false,
    include: ["src/**/*.test.{ts,tsx}"],
  },
}));
