/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The built app ships inside the Python package, which serves it at `/` (scribe/api/web.py).
const outDir = fileURLToPath(new URL('../backend/scribe/web', import.meta.url));
// `npm run dev` proxies the API to a running `scribe serve` (SCRIBE_API_URL to point elsewhere).
const api = process.env.SCRIBE_API_URL ?? 'http://127.0.0.1:20301';

export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: Object.fromEntries(
      ['/v1', '/health', '/docs', '/openapi.json'].map((path) => [path, { target: api, changeOrigin: true }]),
    ),
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
    restoreMocks: true,
  },
});
