/** Types of examples/stand-in-api.mjs, for the tests that start it. */
export interface StandIn {
  /** http://127.0.0.1:PORT */
  url: string;
  /** What the example's checks need: its URL variable, and the credential it requires. */
  variables: Record<string, string>;
  /** path → HTTP status to answer instead of the route (a misbehaving service). */
  faults: Map<string, number>;
  close(): Promise<void>;
}

export declare const STAND_IN_EXAMPLES: string[];

export declare function startStandIn(
  example: string,
  options?: { port?: number; env?: NodeJS.ProcessEnv; faults?: Map<string, number> },
): Promise<StandIn>;
