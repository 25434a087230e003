/**
 * The embedded database: PGlite (single-user WASM Postgres) with its data in a directory,
 * served over a loopback socket so that the rest of the tool speaks `pg` to it exactly as
 * to a real server. pglite-socket multiplexes every connection onto PGlite's one session:
 * session settings and advisory locks are shared between them (see docs/migrations.md).
 *
 * PGlite runs in a worker thread (embedded-host.js), because it cannot interrupt a running
 * statement: `interrupt()` terminates the worker and the next `connect()` reopens the same
 * data directory, so a runaway check costs its deadline, not the command.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { loadPg } from './pg.ts';
import { DatabaseError, UserError, toError } from '../errors.ts';
import { ClientSet, type Database } from './database.ts';
import { LOCK_FILE_NAME, lockDataDir, type LockWait } from './data-dir-lock.ts';
import { backupFileName } from './backup-name.ts';
import { pgliteExtensionImports, type BundleImport } from './pglite-extensions.ts';
import { cleanupFailed, warn } from '../cleanup.ts';
import { failpoint } from '../failpoint.ts';
import { MARK_PREFIX } from '../restore/into-mark.ts';
import { asideDirOf, restoringDirOf, settleInterruptedSwap, swapDataDir, swapInProgress } from './data-dir-swap.ts';

/** More than one tool connection is normal (a lock session plus a work session). */
const MAX_CONNECTIONS = 32;
/** How long a graceful close may take before the worker is terminated instead. */
const CLOSE_TIMEOUT_MS = 10_000;

/**
 * What a platform (database.platform) gives the database every time it opens, before any
 * connection: a search_path of its own (a start parameter, so RESET ALL returns to it),
 * extension files, and SQL that creates its objects (idempotent; see platform-supabase.ts).
 */
export interface PlatformSetup {
  searchPath: string;
  sql: string;
  /** Files to add under Postgres's SHAREDIR before the SQL runs (stand-in extensions' control and script files): PGlite's is in memory. */
  shareFiles?: Record<string, string>;
}

/** `extensions`: the extensions to load (pglite-extensions.ts); loading none keeps start-up at its fastest. */
export async function openEmbedded(
  dir: string,
  environment: string,
  applicationName: string,
  wait: LockWait,
  extensions: readonly string[] = [],
  platform?: PlatformSetup,
): Promise<Database> {
  const release = await lockSettledDataDir(dir, wait);
  const extensionImports = pgliteExtensionImports(extensions);
  const host = new EmbeddedHost(dir, extensionImports, platform);
  try {
    await host.address();
  } catch (error) {
    await host.stop();
    await release();
    throw new DatabaseError(`Could not open the embedded database in ${dir}: ${toError(error).message}`, { cause: error });
  }
  const clients = new ClientSet();
  const label = `embedded database in ${dir}`;

  return {
    kind: 'embedded',
    label,
    async connect(options) {
      const pg = await loadPg();
      let client;
      try {
        const { host: address, port } = await host.address();
        client = new pg.Client({ host: address, port, user: 'postgres', database: 'postgres', application_name: applicationName, pipeline: options?.pipeline === true });
        clients.watch(client);
        await client.connect();
      } catch (error) {
        throw new DatabaseError(`Could not connect to the ${label}: ${toError(error).message}`, { cause: error });
      }
      return clients.add(client);
    },
    async backup(directory) {
      await mkdir(directory, { recursive: true });
      return host.request<string>({ type: 'backup', file: join(directory, backupFileName(environment, 'tar.gz')) });
    },
    async restore(file) {
      // Unpacked and opened beside <dir> (a bad backup fails before anything moved), where the
      // caller writes the kept rows and the outcome; commit() then swaps it in whole.
      const restoring = restoringDirOf(dir);
      await rm(restoring, { recursive: true, force: true });
      await unpackBackup(file, restoring, extensionImports);
      const dropRestoring = cleanupFailed(`removing the restored copy ${restoring}`);
      const restored = await openEmbedded(restoring, environment, applicationName, { mode: 'fail', timeoutMs: 0 }, extensions, platform).catch(async (error: unknown) => {
        await rm(restoring, { recursive: true, force: true }).catch(dropRestoring);
        throw error;
      });
      let open = true;
      const closeRestored = async (): Promise<void> => {
        if (open) await restored.close();
        open = false;
      };
      const abandon = async (): Promise<void> => {
        await closeRestored();
        await rm(restoring, { recursive: true, force: true }).catch(dropRestoring);
      };
      const client = await restored.connect().catch(async (error: unknown) => {
        await abandon();
        throw error;
      });
      const aside = asideDirOf(dir);
      let replaced = false;
      return {
        client,
        keptInPlace: false,
        aside,
        get replaced() {
          return replaced;
        },
        async commit() {
          await closeRestored();
          // Nothing may hold the old files open while they move: every client, then PGlite itself (the lock stays ours).
          await clients.endAll();
          await host.stop();
          // <dir> must never appear unlocked: the restored directory arrives with a copy of our lock file.
          await copyFile(join(dir, LOCK_FILE_NAME), join(restoring, LOCK_FILE_NAME));
          await swapDataDir(dir, restoring, aside);
          replaced = true;
        },
        abandon,
      };
    },
    async restoreInto(file, into, marks) {
      const target = resolve(into);
      await clearIntoTarget(into, target, marks.replaces);
      // Marked before anything is unpacked into it: a rerun after a crash can then prove it made this folder.
      await mkdir(target, { recursive: true });
      await writeFile(join(target, INTO_MARK_FILE), await marks.begin());
      failpoint('restore-into:marked');
      await unpackBackup(file, target, extensionImports);
      return `embedded database in ${target}`;
    },
    async interrupt() {
      // Every connection ends with the worker: their clients see the socket close, never crash.
      await host.kill();
    },
    async close() {
      await clients.endAll();
      await host.stop();
      await release();
    },
  };
}

/**
 * Take <dir>'s lock once no restore's swap of it is half done. A restore killed mid-swap may have
 * left no <dir>: it is settled (finished) before mkdir would make an empty one. A swap that began
 * after that check moves <dir> (and its lock file) away under us: then the lock is let go, and
 * an empty <dir> made in the gap between its renames removed, and it is waited for.
 */
async function lockSettledDataDir(dir: string, wait: LockWait): Promise<() => Promise<void>> {
  for (;;) {
    await settleInterruptedSwap(dir, wait);
    await mkdir(dir, { recursive: true });
    // ENOENT: <dir> moved away while we waited for its lock, which only a swap does.
    const release = await lockDataDir(dir, wait).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    });
    if (release && !swapInProgress(dir)) return release;
    await release?.();
    await rmdir(dir).catch(() => undefined); // Only ever an empty one: the restore's directory arrives whole.
  }
}

/** The file a `--into` restore marks its folder with (restore/into-mark.ts). */
const INTO_MARK_FILE = '.rollout-restore';

/**
 * A `--into` folder must be new or empty, or be the half-made one of the unfinished restore
 * this one reruns (its mark file says exactly `replaces`): that one is deleted, with a warning.
 */
async function clearIntoTarget(into: string, target: string, replaces: string | undefined): Promise<void> {
  if (!existsSync(target) || (await readdir(target)).length === 0) return;
  const mark = await readFile(join(target, INTO_MARK_FILE), 'utf8').catch(() => undefined);
  if (replaces === undefined || mark !== replaces) {
    const whose = mark?.startsWith(MARK_PREFIX) ? ` It is marked "${mark}", not as the unfinished restore's into ${into}, so it is not deleted.` : '';
    throw new UserError(`--into ${into}: the folder ${target} is not empty.${whose} Name a new (or empty) folder for the restored data directory.`);
  }
  await rm(target, { recursive: true, force: true });
  warn(`deleted the folder ${target}, left half-made by ${mark} (its ${INTO_MARK_FILE} file says so), to restore into it again`);
}

/** Unpack a backup (a tarball of a data directory) into a new data directory `dir`, in a worker of its own. */
async function unpackBackup(file: string, dir: string, extensions: readonly BundleImport[]): Promise<void> {
  // A worker of its own, ended after: PGlite failing on a bad tarball can leave the thread unusable.
  const worker = new HostWorker();
  try {
    await worker.request({ type: 'unpack', file, dir, extensions });
  } catch (error) {
    await rm(dir, { recursive: true, force: true }).catch(cleanupFailed(`removing the half-unpacked folder ${dir}`));
    throw new UserError(`Could not restore ${file}: ${toError(error).message}. Is it a backup of an embedded database, taken by this version of rollout (the same PGlite)?`, { cause: error });
  } finally {
    await worker.thread.terminate();
  }
  // The backup was taken while its lock file was held: a copy of it would look like a live holder.
  await rm(join(dir, LOCK_FILE_NAME), { force: true });
}

interface Address {
  host: string;
  port: number;
}

/**
 * A worker thread that hosts PGlite (embedded-host.js), spoken to by request and reply. Once
 * its database is closed it may wait, idle and unref'd, to host the next one: the thread and
 * PGlite's JavaScript are then ready, and only the database itself starts.
 */
class HostWorker {
  readonly thread: Worker;
  exited = false;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly exitListeners = new Set<() => void>();
  private nextId = 1;

  /**
   * The thread starts (and loads PGlite's JavaScript) at once, while the WebAssembly compiles
   * here: every request waits for the module and carries it, so it is there for 'open' and
   * 'unpack', and requests keep their order (they all wait on the same promise).
   */
  private readonly module = compiledPglite();

  constructor() {
    this.thread = new Worker(hostScript());
    this.thread.on('message', (message: HostReply) => {
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) waiting?.resolve(message.result);
      else waiting?.reject(new Error(message.message));
    });
    this.thread.on('error', (error) => this.fail(new Error(`the embedded database stopped: ${error.message}`)));
    this.thread.on('exit', () => this.fail(new Error('the embedded database stopped')));
  }

  request<T>(message: { type: string; [key: string]: unknown }): Promise<T> {
    if (this.exited) return Promise.reject(new Error('the embedded database stopped'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      void this.module.then((pgliteWasmModule) => {
        if (this.exited) return; // fail() has rejected it already.
        this.thread.postMessage({ ...message, id, ...(pgliteWasmModule ? { pgliteWasmModule } : {}) });
      });
    });
  }

  onExit(listener: () => void): void {
    this.exitListeners.add(listener);
  }

  private fail(error: Error): void {
    this.exited = true;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
    for (const listener of this.exitListeners) listener();
    this.exitListeners.clear();
  }
}

let idleWorker: HostWorker | undefined;

function acquireWorker(): HostWorker {
  const parked = idleWorker;
  idleWorker = undefined;
  if (parked && !parked.exited) {
    parked.thread.ref();
    return parked;
  }
  return new HostWorker();
}

/** Keep one closed worker for the next open (it does not keep the process alive); end any other. */
function parkWorker(worker: HostWorker): void {
  if (idleWorker || worker.exited) {
    void worker.thread.terminate();
    return;
  }
  worker.thread.unref();
  idleWorker = worker;
}

interface Running {
  worker: Promise<HostWorker>;
  address: Promise<Address>;
}

/** One PGlite at a time on one data directory; started on demand, terminated on interrupt. */
class EmbeddedHost {
  private running: Running | undefined;
  /** A kill in progress: nothing may open the directory again before the old worker is gone. */
  private killed: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly extensions: readonly BundleImport[] = [],
    private readonly platform?: PlatformSetup,
  ) {}

  /** Where the socket server listens; starts the database if it is not running (after an interrupt). */
  address(): Promise<Address> {
    return (this.running ??= this.start()).address;
  }

  async request<T>(message: { type: string; [key: string]: unknown }): Promise<T> {
    await this.address();
    const running = this.running;
    if (!running) throw new Error('the embedded database stopped');
    return (await running.worker).request<T>(message);
  }

  /** Stop at once, whatever the worker runs. The data directory is left as a crash leaves it; reopening recovers. */
  async kill(): Promise<void> {
    const running = this.running;
    if (!running) return this.killed;
    this.running = undefined;
    const previous = this.killed;
    this.killed = (async () => {
      await previous;
      // A worker that failed to start has nothing to stop; its failure was reported by address().
      const worker = await running.worker.catch(() => undefined);
      await worker?.thread.terminate();
      // A spilling query's temporary files outlive it: nobody else can be using them now.
      await rm(join(this.dir, 'base', 'pgsql_tmp'), { recursive: true, force: true }).catch(cleanupFailed('removing the embedded database\'s temporary files'));
    })();
    return this.killed;
  }

  /** Close gracefully (checkpoint, release the files) and keep the worker for the next open; terminate it if it does not answer. */
  async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), CLOSE_TIMEOUT_MS);
    });
    try {
      const closed = await Promise.race([running.address.then(async () => (await running.worker).request({ type: 'close' })), timedOut]);
      if (closed !== 'timeout') {
        this.running = undefined;
        parkWorker(await running.worker);
        return;
      }
    } catch {
      // It failed to start or to close: terminating is all that is left to do.
    } finally {
      clearTimeout(timer);
    }
    await this.kill();
  }

  private start(): Running {
    const worker = this.killed.then(acquireWorker);
    const address = worker.then((host) => {
      host.onExit(() => {
        if (this.running === running) this.running = undefined;
      });
      return host.request<Address>({ type: 'open', dir: this.dir, maxConnections: MAX_CONNECTIONS, extensions: this.extensions, ...(this.platform ? { platform: this.platform } : {}) });
    });
    const running: Running = { worker, address };
    // A failed start leaves nothing running: the next address() tries again, in a new worker.
    address.catch(async () => {
      if (this.running === running) this.running = undefined;
      const host = await worker.catch(() => undefined);
      await host?.thread.terminate();
    });
    return running;
  }
}

interface HostReply {
  id: number;
  ok: boolean;
  result?: unknown;
  message?: string;
}

/** embedded-host.js sits next to this module in the source tree and next to the CLI's chunks in dist/. */
function hostScript(): URL {
  const candidates = [new URL('./embedded-host.js', import.meta.url), new URL('./cli-chunks/embedded-host.js', import.meta.url)];
  return candidates.find((url) => existsSync(fileURLToPath(url))) ?? candidates[0];
}

/** A compiled WebAssembly.Module (this project's TypeScript lib has no WebAssembly values). */
type WasmModule = object;
const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> } }).WebAssembly;

let compiling: Promise<WasmModule | undefined> | undefined;

/** Compile PGlite's WASM once per process: every (re)started worker instantiates the same module. */
function compiledPglite(): Promise<WasmModule | undefined> {
  return (compiling ??= (async () => {
    try {
      const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
      return await wasm.compile(await readFile(join(dirname(entry), 'pglite.wasm')));
    } catch {
      return undefined; // PGlite finds and compiles its own WASM.
    }
  })());
}
