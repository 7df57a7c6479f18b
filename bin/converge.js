#!/usr/bin/env node
// The `converge` CLI; the TypeScript sources are built to dist/ by `npm run build`.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const cli = join(__dirname, '..', 'dist', 'src', 'cli', 'converge.js');
if (!existsSync(cli)) {
  console.error('converge is not built yet: run "npm run build" (npm start and npm test build it too).');
  process.exit(1);
}
require(cli);
