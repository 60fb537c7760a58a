import { defineConfig } from 'vite';

// Built into dist/ with relative asset paths, so @junction/admin can serve it at `/` (or under
// any prefix a proxy adds). Only `vite build` uses this file: the root vitest config defines
// this folder's test project inline.
export default defineConfig({
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false, reportCompressedSize: false },
});
