/**
 * The `pg` module, loaded without its Cloudflare Workers probe. When `navigator` is absent
 * (Node 20), pg's stream.js constructs a fetch `Response` at load time to find out whether it
 * runs in a Worker, which loads Node's bundled undici: ~15 ms on every command that talks to
 * a database. Node 21+ defines `navigator` itself; on Node 20 we define the same object only
 * while pg loads, then remove it again so nothing else sees a global it did not have.
 */
import type pgTypes from 'pg';

let loading: Promise<typeof pgTypes> | undefined;

export function loadPg(): Promise<typeof pgTypes> {
  return (loading ??= (async () => {
    const absent = !('navigator' in globalThis);
    if (absent) Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node.split('.')[0]}` }, configurable: true, writable: true });
    try {
      return (await import('pg')).default;
    } finally {
      if (absent) Reflect.deleteProperty(globalThis, 'navigator');
    }
  })());
}
