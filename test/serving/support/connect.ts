/** A provider on its own OpenFeature domain, for tests that connect to a database. */
import { OpenFeature, type Client } from '@openfeature/server-sdk';
import { RolloutProvider, type RolloutProviderOptions } from '../../../packages/provider/src/provider.ts';

let domains = 0;

/** A provider bound to a fresh OpenFeature domain, and that domain's client. */
export async function connect(url: string, options: Partial<RolloutProviderOptions> = {}): Promise<{ provider: RolloutProvider; client: Client }> {
  const provider = new RolloutProvider({ connectionString: url, environment: 'test', retryBackoffMs: 50, retryBackoffMaxMs: 200, ...options });
  const domain = `rollout-test-${process.pid}-${domains++}`;
  await OpenFeature.setProviderAndWait(domain, provider);
  return { provider, client: OpenFeature.getClient(domain) };
}

