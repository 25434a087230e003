// A stand-in for the services the guides' curl commands call, so that each example's HTTP
// checks have something to answer them when you try the example without your own service.
// It answers exactly what the guide documents (the bodies are quoted from the guides), asks
// for the same credentials, and can be told to fail (`faults`) — the tests use that to show
// that every HTTP check fails when the service misbehaves.
//
//   cd examples/seed-002-staging-rollout
//   node ../stand-in-api.mjs seed-002-staging-rollout      # prints the export lines to paste
//
// Point the checks at your real service instead by setting the same variables to its URL.
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

/** Each example's service: the variables its checks read, and its routes. */
const SERVICES = {
  // Seed 001, 1.C: curl -s "$SUPABASE_URL/functions/v1/health" | jq
  'seed-001-day0-cutover': {
    port: 54321,
    urlVariable: 'SUPABASE_URL',
    routes: {
      'GET /functions/v1/health': () => ({ status: 200, body: { status: 'ok', functions: ['hydrate-features', 'queue-worker', 'rocker-discovery-run', 'policy-ranker'] } }),
    },
  },
  // Seed 002, section 4: the Autopack API on http://localhost:8000, X-API-Key on /api/*.
  'seed-002-staging-rollout': {
    port: 8000,
    urlVariable: 'API_URL',
    apiKeyVariable: 'AUTOPACK_API_KEY',
    routes: {
      'GET /health': (env) => ({
        status: 200,
        body: { status: 'healthy', database: 'connected', qdrant: 'disabled', kill_switches: { phase6_metrics: on(env.AUTOPACK_ENABLE_PHASE6_METRICS), consolidated_metrics: on(env.AUTOPACK_ENABLE_CONSOLIDATED_METRICS) } },
      }),
      'GET /api/runs': () => ({ status: 200, body: [{ run_id: 'test-run-id', state: 'COMPLETE' }] }),
      'GET /api/runs/test-run-id': () => ({ status: 200, body: { run_id: 'test-run-id', state: 'COMPLETE' } }),
      'GET /api/runs/test-run-id/status': () => ({ status: 200, body: { run_id: 'test-run-id', state: 'COMPLETE' } }),
      'POST /api/runs/test-run-id/execute': () => ({ status: 202, body: { run_id: 'test-run-id', state: 'QUEUED' } }),
      'GET /api/dashboard/runs/test-run-id/consolidated-metrics': (env) =>
        on(env.AUTOPACK_ENABLE_CONSOLIDATED_METRICS)
          ? {
              status: 200,
              body: { retrieval_tokens: 12345, second_opinion_tokens: 6789, evidence_request_tokens: 3456, base_tokens: 98765, total_tokens: 121355, total_phases: 10, phases_with_metrics: 10 },
            }
          : { status: 503, body: { detail: 'Consolidated metrics disabled' } },
      'GET /api/dashboard/ab-results': (_env, query) => {
        const results = [
          { test_id: 'v5-vs-v6', is_valid: true, token_delta: -1234, validity_errors: [] },
          { test_id: 'v4-vs-v5', is_valid: false, token_delta: 0, validity_errors: ['control and treatment have different commit SHAs'] },
        ];
        const validOnly = query.get('valid_only') === 'true';
        const testId = query.get('test_id');
        return { status: 200, body: results.filter((r) => (!validOnly || r.is_valid) && (!testId || r.test_id === testId)) };
      },
    },
  },
  // Seed 003, phase 3: GET https://staging.athlete-ally.com/api/plans/jobs/{jobId} with a bearer token.
  'seed-003-stream5-scoring': {
    port: 3000,
    urlVariable: 'PLANNING_API_URL',
    bearerVariable: 'STAGING_TOKEN',
    routes: {
      'POST /api/plans/generate': () => ({ status: 202, body: { jobId: 'smoke-test', status: 'queued' } }),
      'GET /api/plans/jobs/smoke-test': () => ({
        status: 200,
        body: {
          jobId: 'smoke-test',
          status: 'completed',
          resultData: { scoring: { version: 'fixed-weight-v1', total: 0.72, weights: { strength: 0.5, recovery: 0.3, variety: 0.2 }, components: { strength: 0.8, recovery: 0.6, variety: 0.7 } } },
        },
      }),
    },
  },
};

/** The seed's switches are strings: "1" (or "true") is on, anything else off. */
function on(value) {
  return value === '1' || value === 'true';
}

export const STAND_IN_EXAMPLES = Object.keys(SERVICES);

/**
 * Start the stand-in service of an example on 127.0.0.1.
 * env: the variables it reads (switches, the API key or token it requires); faults: path → status to answer instead.
 * Returns { url, variables (what the checks need: the URL variable and the credential), faults, close() }.
 */
export async function startStandIn(example, { port = 0, env = process.env, faults = new Map() } = {}) {
  const service = SERVICES[example];
  if (!service) throw new Error(`no stand-in service for ${example}; known: ${STAND_IN_EXAMPLES.join(', ')}`);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const fault = faults.get(url.pathname);
    if (fault !== undefined) return reply(fault, { error: `fault injected: ${fault}` });
    const route = service.routes[`${req.method} ${url.pathname}`];
    if (!route) return reply(404, { detail: 'Not Found' });
    if (service.apiKeyVariable && url.pathname.startsWith('/api/') && req.headers['x-api-key'] !== env[service.apiKeyVariable]) return reply(401, { detail: 'Invalid or missing API key' });
    if (service.bearerVariable && req.headers.authorization !== `Bearer ${env[service.bearerVariable]}`) return reply(401, { detail: 'Unauthorized' });
    const { status, body } = route(env, url.searchParams);
    return reply(status, body);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  const variables = { [service.urlVariable]: url };
  for (const name of [service.apiKeyVariable, service.bearerVariable]) if (name && env[name] !== undefined) variables[name] = env[name];
  return { url, variables, faults, close: () => new Promise((resolve) => server.close(() => resolve(undefined))) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const example = process.argv[2];
  if (!SERVICES[example]) {
    console.error(`usage: node stand-in-api.mjs <example> [port]\nexamples: ${STAND_IN_EXAMPLES.join(', ')}`);
    process.exit(2);
  }
  const service = SERVICES[example];
  const env = { ...process.env };
  // The credential the checks send; a fixed development value when you have not set one.
  for (const name of [service.apiKeyVariable, service.bearerVariable]) if (name && env[name] === undefined) env[name] = 'stand-in-dev-credential';
  const standIn = await startStandIn(example, { port: Number(process.argv[3] ?? service.port), env });
  console.log(`stand-in for ${example} listening on ${standIn.url} (Ctrl-C to stop). In another shell:`);
  for (const [name, value] of Object.entries(standIn.variables)) console.log(`  export ${name}=${value}`);
}
