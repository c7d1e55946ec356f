// Resolves the workspace aliases (@pressluft/<lib>) to the compiled libraries under dist/
// (or PRESSLUFT_DIST_DIR) when a built app runs with
// `node -r ./tools/runtime/register-paths.cjs dist/apps/<app>/src/main.js`.
const path = require('node:path');
require('tsconfig-paths').register({
  baseUrl: process.env.PRESSLUFT_DIST_DIR || path.resolve(__dirname, '../../dist'),
  // A library's test entry (the benchmarks' test agent uses the agent runtime's ScriptedHost).
  paths: { '@pressluft/agent-runtime/testing': ['libs/agent-runtime/src/testing/index.js'], '@pressluft/*': ['libs/*/src/index.js'] },
  addMatchAll: false,
});
