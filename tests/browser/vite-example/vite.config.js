import { defineConfig } from 'vite';

export default defineConfig({
  // The keygen package starts its key generation worker as an ES module worker.
  worker: { format: 'es' },
});
