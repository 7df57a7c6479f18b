#!/usr/bin/env node
// The image's health check: `node docker/healthcheck.js [url ...]` exits 0 when PID 1 is alive
// and every url answers 2xx. Without urls it checks what PID 1 runs (the image's exec-form
// `node dist/src/main.js <process>`): that process's /health/ready (the APIs on their ports, the
// relay, projector and process-manager on their ops ports). The CLI serves no HTTP: alive is all it says.
const { readFileSync } = require('node:fs');

const APIS = {
  'command-api': ['COMMAND_API_PORT', 3000],
  'query-api': ['QUERY_API_PORT', 3001],
  relay: ['RELAY_PORT', 3002],
  projector: ['PROJECTOR_PORT', 3003],
  'process-manager': ['PROCESS_MANAGER_PORT', 3004],
};

function readinessUrls() {
  const argv = readFileSync('/proc/1/cmdline', 'utf8').split('\0');
  const main = argv.findIndex((arg) => arg.endsWith('dist/src/main.js'));
  if (main < 0) return [];
  const which = argv[main + 1] || 'all';
  return Object.entries(APIS)
    .filter(([name]) => which === 'all' || which === name)
    .map(([, [variable, port]]) => `http://127.0.0.1:${process.env[variable] || port}/health/ready`);
}

async function check() {
  process.kill(1, 0); // throws once PID 1 is gone
  const urls = process.argv.length > 2 ? process.argv.slice(2) : readinessUrls();
  for (const url of urls) {
    const response = await fetch(url, { signal: AbortSignal.timeout(4000) });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  }
}

check().then(
  () => process.exit(0),
  (error) => {
    console.error(`unhealthy: ${error.message}`);
    process.exit(1);
  },
);
