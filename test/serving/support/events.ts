/** Waiting for OpenFeature events: tests await what the provider announces, they never sleep. */
import { ProviderEvents, type EventDetails } from '@openfeature/server-sdk';
import type { RolloutProvider } from '../../../packages/provider/src/provider.ts';

/** Events the provider emitted, in order, for assertions about the life cycle. */
export function recordEvents(provider: RolloutProvider): Array<{ type: ProviderEvents; details?: EventDetails }> {
  const seen: Array<{ type: ProviderEvents; details?: EventDetails }> = [];
  for (const type of [ProviderEvents.Ready, ProviderEvents.Error, ProviderEvents.Stale, ProviderEvents.ConfigurationChanged]) {
    provider.events.addHandler(type, (details?: EventDetails) => void seen.push({ type, details }));
  }
  return seen;
}

/**
 * The next event of `type` from the provider that satisfies `accept`. Register before acting.
 * The timeout only turns a hang into a clear failure; no test waits for it to pass.
 */
export function nextEvent(provider: RolloutProvider, type: ProviderEvents, accept: (details?: EventDetails) => boolean = () => true, timeoutMs = 20_000): Promise<EventDetails | undefined> {
  return new Promise((resolve, reject) => {
    const handler = (details?: EventDetails): void => {
      if (!accept(details)) return;
      clearTimeout(timer);
      provider.events.removeHandler(type, handler);
      resolve(details);
    };
    const timer = setTimeout(() => {
      provider.events.removeHandler(type, handler);
      reject(new Error(`no ${type} event within ${timeoutMs} ms`));
    }, timeoutMs);
    provider.events.addHandler(type, handler);
  });
}

/** The next PROVIDER_CONFIGURATION_CHANGED that names every one of `keys`. */
export function nextChange(provider: RolloutProvider, ...keys: string[]): Promise<string[]> {
  const changed = new Set<string>();
  return nextEvent(provider, ProviderEvents.ConfigurationChanged, (details) => {
    for (const key of (details as { flagsChanged?: string[] } | undefined)?.flagsChanged ?? []) changed.add(key);
    return keys.every((key) => changed.has(key));
  }).then(() => [...changed]);
}
