/**
 * What js-yaml 4.3 has and @types/js-yaml (written for 4.0) does not declare: the nesting
 * limit of load() and the built-in types (yaml-source.ts builds its schema from the float type).
 */
import type { Type } from 'js-yaml';

declare module 'js-yaml' {
  interface LoadOptions {
    /** Refuse nodes nested deeper than this (every node counts, from 1 at the top; default 100). */
    maxDepth?: number | undefined;
  }
  interface Type {
    tag: string;
  }
  export const types: { float: Type };
}
