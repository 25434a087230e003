// A checkout service that decides per user whether to show the new checkout, through
// OpenFeature and rollout's provider. It never reads the flag table itself: the provider
// holds the environment's definitions in memory and answers exactly as the flag's stage
// allows (off, dark for the internal segment, canary percent, full), kept current by
// LISTEN/NOTIFY. Run: DATABASE_URL=postgres://… node server.mjs
import { createServer } from 'node:http';
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { RolloutProvider } from '@rollout/openfeature-provider';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error('Set DATABASE_URL to the environment\'s database, e.g. postgres://checkout_reader@db.internal:5432/app');
  process.exit(2);
}

const provider = new RolloutProvider({ connectionString: databaseUrl, environment: process.env.ROLLOUT_ENVIRONMENT ?? 'staging' });
OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, (details) => console.log(`flags changed: ${(details?.flagsChanged ?? []).join(', ')}`));
OpenFeature.addHandler(ProviderEvents.Stale, (details) => console.warn(`flags may be stale: ${details?.message}`));
OpenFeature.addHandler(ProviderEvents.Error, (details) => console.warn(`flag provider error: ${details?.message}`));
// Without the database at start the service still starts: every flag answers its default until it connects.
await OpenFeature.setProviderAndWait(provider).catch((error) => console.warn(`starting without flags: ${error.message}`));
const flags = OpenFeature.getClient('checkout');

const server = createServer(async (request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname !== '/checkout') {
    response.writeHead(404).end();
    return;
  }
  const user = url.searchParams.get('user') ?? undefined;
  // The unit is the user; attributes let segments (like `internal`) match by email domain.
  const context = { ...(user ? { targetingKey: user } : {}), ...(url.searchParams.get('email_domain') ? { email_domain: url.searchParams.get('email_domain') } : {}) };
  const details = await flags.getObjectDetails('checkout.v2', { enabled: false }, context);
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ user, checkout: details.value, variant: details.variant, reason: details.reason, stage: details.flagMetadata.stage, errorCode: details.errorCode }));
});

server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => console.log(`listening on ${server.address().port}`));

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close();
    void OpenFeature.close().then(() => process.exit(0));
  });
}
