// Resolves the workspace aliases (@pressluft/<lib>) to the compiled libraries under dist/
// when a built app runs with `node -r ./tools/runtime/register-paths.cjs dist/apps/<app>/src/main.js`.
const path = require('node:path');
require('tsconfig-paths').register({
  baseUrl: path.resolve(__dirname, '../../dist'),
  paths: { '@pressluft/*': ['libs/*/src/index.js'] },
  addMatchAll: false,
});
