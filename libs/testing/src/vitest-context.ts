import type { SharedServices } from './shared-services.js';

// What `inject('services')` returns in integration tests (provided by vitest-global-setup.ts).
// A file of its own, so code that runs outside Vitest (benchmarks) never needs Vitest's types.
declare module 'vitest' {
  export interface ProvidedContext {
    services: SharedServices;
  }
}
