/**
 * RolloutProvider: an OpenFeature server provider that answers from rollout's flag
 * definitions in process memory, exactly as each flag's stage allows (rule.ts), and stays
 * current through DefinitionSync. Its life follows the flagd in-process provider's:
 *
 *   initialize        connect, LISTEN, read everything       → READY (the SDK emits it)
 *                     first attempt failed                   → ERROR (the SDK), retrying; READY once connected
 *   a change          notice or periodic re-read             → PROVIDER_CONFIGURATION_CHANGED { flagsChanged }
 *   connection lost   answers go on from the last definitions, reason STALE
 *                                                            → PROVIDER_STALE at once,
 *                                                              PROVIDER_ERROR after retryGracePeriodMs
 *   reconnected       full re-read                           → PROVIDER_READY, then CONFIGURATION_CHANGED
 *                                                              with whatever changed meanwhile
 *   onClose           disconnect; back to NOT_READY (spec 2.5.2), may be initialized again
 *
 * The SDK only refuses to call a provider that is NOT_READY or FATAL, so in STALE and ERROR
 * services keep getting the last good definitions.
 */
import {
  OpenFeatureEventEmitter,
  ProviderEvents,
  ProviderFatalError,
  type EvaluationContext,
  type JsonValue,
  type Logger,
  type Provider,
  type ProviderMetadata,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import { DefinitionSet } from './evaluator.ts';
import { DefinitionSync, FatalSyncError } from './sync.ts';

export interface RolloutProviderOptions {
  /** postgres://user@host:port/database of the environment's database (read access to rollout.flag_definitions is enough). */
  connectionString?: string;
  /** Other settings of the pg client (host, password, ssl, …), merged under connectionString. */
  connection?: ConnectionSettings;
  /** The environment's name: shown in the provider's metadata and the connection's application_name. */
  environment?: string;
  /** How often to re-read when no notice came (a fallback, and a liveness check). Default 10,000 ms. */
  pollIntervalMs?: number;
  /** How long a lost connection stays STALE before the provider also reports ERROR. Default 5,000 ms. */
  retryGracePeriodMs?: number;
  /** First reconnection delay; doubles per failed attempt, up to retryBackoffMaxMs. Default 500 ms. */
  retryBackoffMs?: number;
  /** Longest delay between reconnection attempts. Default 30,000 ms. */
  retryBackoffMaxMs?: number;
  /** A query that takes longer means the connection is gone. Default 10,000 ms. */
  queryTimeoutMs?: number;
  /** How long one connection attempt may take. Default 5,000 ms. */
  connectTimeoutMs?: number;
}

/** Settings passed to pg's Client as they are (see node-postgres' documentation). */
export interface ConnectionSettings {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  ssl?: boolean | Record<string, unknown>;
  [setting: string]: unknown;
}

export const PROVIDER_NAME = 'rollout';

export class RolloutProvider implements Provider {
  readonly metadata: ProviderMetadata;
  readonly runsOn = 'server';
  readonly events = new OpenFeatureEventEmitter();

  private definitions = new DefinitionSet();
  private sync: DefinitionSync | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly options: Required<Omit<RolloutProviderOptions, 'connectionString' | 'connection' | 'environment'>>;

  constructor(private readonly settings: RolloutProviderOptions) {
    this.metadata = settings.environment ? { name: PROVIDER_NAME, environment: settings.environment } : { name: PROVIDER_NAME };
    this.options = {
      pollIntervalMs: settings.pollIntervalMs ?? 10_000,
      retryGracePeriodMs: settings.retryGracePeriodMs ?? 5_000,
      retryBackoffMs: settings.retryBackoffMs ?? 500,
      retryBackoffMaxMs: settings.retryBackoffMaxMs ?? 30_000,
      queryTimeoutMs: settings.queryTimeoutMs ?? 10_000,
      connectTimeoutMs: settings.connectTimeoutMs ?? 5_000,
    };
  }

  /** Whether answers come from definitions that may be out of date (the database is unreachable). */
  get stale(): boolean {
    return this.definitions.ready && !(this.sync?.connected ?? false);
  }

  /** How many flags the provider holds (including rows it could not parse). */
  get flagCount(): number {
    return this.definitions.size;
  }

  async initialize(): Promise<void> {
    if (this.sync) return;
    this.definitions = new DefinitionSet();
    const sync = new DefinitionSync(
      this.definitions,
      {
        connection: { ...this.settings.connection, connectionString: this.settings.connectionString, application_name: this.applicationName() },
        pollIntervalMs: this.options.pollIntervalMs,
        retryBackoffMs: this.options.retryBackoffMs,
        retryBackoffMaxMs: this.options.retryBackoffMaxMs,
        queryTimeoutMs: this.options.queryTimeoutMs,
        connectTimeoutMs: this.options.connectTimeoutMs,
      },
      {
        changed: (keys) => this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: keys }),
        connected: () => {
          clearTimeout(this.graceTimer);
          this.graceTimer = undefined;
          this.events.emit(ProviderEvents.Ready, { message: 'reconnected to the rollout database; definitions re-read' });
        },
        disconnected: (error) => this.onDisconnected(error),
      },
    );
    this.sync = sync;
    try {
      await sync.start();
    } catch (error) {
      if (error instanceof FatalSyncError) {
        this.sync = undefined;
        throw new ProviderFatalError(`rollout cannot read flag definitions: ${error.message}`, { cause: error });
      }
      // The SDK reports PROVIDER_ERROR; the sync goes on retrying and reports READY when it connects.
      throw new Error(`rollout could not read flag definitions yet (retrying): ${describe(error)}`, { cause: error });
    }
  }

  async onClose(): Promise<void> {
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    const sync = this.sync;
    this.sync = undefined;
    await sync?.stop();
    this.definitions = new DefinitionSet();
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext, _logger?: Logger): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(this.definitions.resolve('boolean', flagKey, defaultValue, context, { stale: this.stale }));
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext, _logger?: Logger): Promise<ResolutionDetails<string>> {
    return Promise.resolve(this.definitions.resolve('string', flagKey, defaultValue, context, { stale: this.stale }));
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext, _logger?: Logger): Promise<ResolutionDetails<number>> {
    return Promise.resolve(this.definitions.resolve('number', flagKey, defaultValue, context, { stale: this.stale }));
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext, _logger?: Logger): Promise<ResolutionDetails<T>> {
    return Promise.resolve(this.definitions.resolve('object', flagKey, defaultValue, context, { stale: this.stale }) as ResolutionDetails<T>);
  }

  /** STALE at once; after the grace period of the outage, ERROR too (the answers go on, reason STALE). */
  private onDisconnected(error: Error): void {
    this.events.emit(ProviderEvents.Stale, { message: `lost the rollout database (${describe(error)}); serving the last definitions read, reconnecting` });
    if (this.graceTimer !== undefined) return;
    this.graceTimer = setTimeout(() => {
      this.graceTimer = undefined;
      if (this.sync && !this.sync.connected) this.events.emit(ProviderEvents.Error, { message: 'the rollout database is still unreachable; serving the last definitions read, reconnecting' });
    }, this.options.retryGracePeriodMs);
    this.graceTimer.unref();
  }

  private applicationName(): string {
    return this.settings.environment ? `rollout-provider ${this.settings.environment}`.slice(0, 63) : 'rollout-provider';
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
