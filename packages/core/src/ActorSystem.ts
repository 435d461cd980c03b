// The runtime that hosts actors: top-level spawning under a guardian, lookup by name or path, the event
// stream, and an orderly, idempotent shutdown. Features beyond the local runtime (the cluster) attach
// through named extensions instead of growing this class.

import type { Actor } from './Actor';
import type { ActorRef } from './ActorRef';
import { MAX_TIMER_DELAY_MS, SystemClock, type Clock } from './Clock';
import { ExtensionNotFoundError, InvalidArgumentError, SystemShutdownError } from './errors';
import { EventStream } from './EventStream';
import { consoleLogger, type Logger } from './Logger';
import type { ActorClass, AnyActor, MailboxOptions, MessageOf, SpawnOptions, SpawnParams, Spawner } from './spawn';
import { defaultSupervisorConfig, SupervisionStrategy, type SupervisorConfig } from './supervision';
import { ActorCell } from './internal/ActorCell';
import { AskRegistry } from './internal/AskRegistry';
import { ChildContainer } from './internal/ChildContainer';
import { Dispatcher } from './internal/Dispatcher';
import { LocalActorRef } from './internal/LocalActorRef';
import type { Runtime } from './internal/Runtime';
import { superviseFailure, type FailureOrigin } from './internal/Supervisor';
import './CombinedRef';
import { Codec } from './codec';
import { StoppedActorRef } from './internal/StoppedActorRef';
import { DEFAULT_SHUTDOWN_PHASE_TIMEOUT_MS, ShutdownPhases } from './ShutdownPhases';
import { SYSTEM_ACTORS } from './internal/systemActors';
import { checkLogger } from './loggers';
import { MAILBOX_DEPTHS, OBSERVE_ASKS, RUNTIME_STATS, type MailboxDepths, type RuntimeStats } from './internal/runtimeStats';
import type { AskObserver } from './internal/AskRegistry';

/** Options of `ActorSystem.create`. */
export interface ActorSystemOptions {
  /** Names the system in logs and errors. Default 'casty'. */
  readonly name?: string;
  /** The source of time for timeouts, backoff and timers. Default: real time. Tests pass a ManualClock. */
  readonly clock?: Clock;
  /** Where the runtime reports errors nobody else can see (a failing onStop...). Default: the console. */
  readonly logger?: Logger;
  /** Default `ask` timeout in milliseconds, from 1 to 2^31 - 1 (about 24.8 days). Default 5000, as in the seed. */
  readonly askTimeoutMs?: number;
  /**
   * Messages one actor processes before others get a turn. Default 256: large enough that a busy actor
   * pays little scheduling overhead, small enough that thousands of actors share the loop fairly.
   */
  readonly throughput?: number;
  /**
   * Sends every local message through the wire codec (encode, then decode) at `send`/`ask`, as Akka's
   * `serialize-messages` does: a message that could not cross the network fails in a one-node test, at the
   * call, instead of only once a second node exists. Costs a few microseconds a message; meant for tests.
   */
  readonly serializeMessages?: boolean;
  /**
   * Logs each failure a supervisor handles (a receive that threw, even in a fire-and-forget `send`) once,
   * at error level, with the actor's path, the message class, the error and what happens next (restart,
   * stop), as Akka logs "... failed". Default true. With false, only reaching the restart limit is logged
   * (a warning); the ActorFailed event is published either way.
   */
  readonly logFailures?: boolean;
  /**
   * Bound in milliseconds on the extension tasks of each shutdown phase (see `shutdownPhases`), from 1 to
   * 2^31 - 1. A phase whose tasks have not all settled by then is logged and shutdown goes on. Default 10000.
   */
  readonly shutdownPhaseTimeoutMs?: number;
}

/** A typed key for an extension attached to a system. */
export class ExtensionKey<TExtension extends SystemExtension> {
  declare private readonly brand?: TExtension;
  constructor(readonly name: string) {}
}

/**
 * What an extension (e.g. the cluster) can contribute to a system. Shutdown work goes in named phases with
 * `system.shutdownPhases.add(phase, name, task)`; the two hooks below are older aliases for it.
 */
export interface SystemExtension {
  /** Finds a named actor this process does not host (asked after the local lookup fails). */
  lookup?(name: string): Promise<ActorRef<unknown> | undefined>;
  /** Alias: registered as a task of the 'leave' shutdown phase (after 'hand-off', before the actors stop). */
  beforeShutdown?(): Promise<void>;
  /** Alias: registered as a task of the 'close' shutdown phase (after every actor has stopped). */
  afterShutdown?(): Promise<void>;
  /**
   * Spawns what a top-level spawn with cluster-wide options (`sharded`, `singleton`, `replication`) asks for; the
   * first extension that has this method takes such spawns (sharding). Without one they are an InvalidArgumentError.
   */
  spawnDistributed?(actorClass: ActorClass, options: Readonly<Record<string, unknown>>): Promise<unknown>;
}

/** Spawn options that only a cluster extension (sharding) can honour. */
const DISTRIBUTED_OPTIONS = ['sharded', 'singleton', 'replication'] as const;

// Messages processed in one microtask turn before yielding to the event loop (so I/O and timers run).
const TURN_BUDGET = 16_384;

/** Hosts actors. Create with `ActorSystem.create()`; dispose with `await using` or `shutdown()`. */
export class ActorSystem implements Spawner, AsyncDisposable {
  readonly name: string;
  /** Runtime events: ActorStarted, ActorStopped, ActorRestarted, ActorFailed, DeadLetter, UnhandledMessage (and cluster events). */
  readonly events: EventStream;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * The tasks `shutdown()` runs, in phases 'hand-off', 'leave', 'actors-stop', 'close' (Pekko's coordinated
   * shutdown, cut down): `system.shutdownPhases.add('hand-off', 'my-extension', async () => ...)`.
   */
  readonly shutdownPhases: ShutdownPhases;
  private readonly guardian: Guardian;
  /** The parent of the framework's own actors (shard regions, replica stores...), at `/system`. */
  private readonly systemGuardian: Guardian;
  private readonly extensions = new Map<string, SystemExtension>();
  private shutdownPromise: Promise<void> | null = null;
  private resolveTerminated!: () => void;
  /** Resolves once shutdown has finished. */
  readonly whenTerminated: Promise<void> = new Promise((resolve) => (this.resolveTerminated = resolve));

  /** Creates a local actor system. */
  static create(options: ActorSystemOptions = {}): ActorSystem {
    return new ActorSystem(options);
  }

  protected constructor(options: ActorSystemOptions) {
    const askTimeoutMs = options.askTimeoutMs ?? 5_000;
    if (!(askTimeoutMs > 0 && askTimeoutMs <= MAX_TIMER_DELAY_MS)) {
      throw new InvalidArgumentError(`ActorSystem.create: askTimeoutMs must be a number of ms > 0 and at most ` +
        `${MAX_TIMER_DELAY_MS} (2^31 - 1, about 24.8 days), got ${String(askTimeoutMs)}`);
    }
    const throughput = options.throughput ?? 256;
    if (!Number.isInteger(throughput) || throughput < 1) {
      throw new InvalidArgumentError(`ActorSystem.create: throughput must be a whole number >= 1, got ${String(throughput)}`);
    }
    if (options.serializeMessages !== undefined && typeof options.serializeMessages !== 'boolean') {
      throw new InvalidArgumentError(`ActorSystem.create: serializeMessages must be true or false, got ${String(options.serializeMessages)}`);
    }
    if (options.logFailures !== undefined && typeof options.logFailures !== 'boolean') {
      throw new InvalidArgumentError(`ActorSystem.create: logFailures must be true or false, got ${JSON.stringify(options.logFailures)}`);
    }
    const shutdownPhaseTimeoutMs = options.shutdownPhaseTimeoutMs ?? DEFAULT_SHUTDOWN_PHASE_TIMEOUT_MS;
    if (!(typeof shutdownPhaseTimeoutMs === 'number' && shutdownPhaseTimeoutMs > 0 && shutdownPhaseTimeoutMs <= MAX_TIMER_DELAY_MS)) {
      throw new InvalidArgumentError(`ActorSystem.create: shutdownPhaseTimeoutMs must be a number of ms > 0 and at most ` +
        `${MAX_TIMER_DELAY_MS} (2^31 - 1), got ${String(shutdownPhaseTimeoutMs)}`);
    }
    this.name = options.name ?? 'casty';
    this.clock = options.clock ?? SystemClock.instance;
    if (options.logger !== undefined) checkLogger(options.logger, 'ActorSystem.create: logger');
    this.logger = options.logger ?? consoleLogger;
    this.shutdownPhases = new ShutdownPhases(this.name, this.clock, this.logger, shutdownPhaseTimeoutMs);
    this.events = new EventStream(this.logger);
    const runtime: Runtime = {
      system: this,
      clock: this.clock,
      events: this.events,
      logger: this.logger,
      asks: new AskRegistry(this.clock),
      dispatcher: new Dispatcher(throughput, TURN_BUDGET),
      askTimeoutMs,
      shuttingDown: false,
      checkMessage: options.serializeMessages === true ? wireRoundTrip(this) : undefined,
      logFailures: options.logFailures ?? true,
    };
    this.guardian = new Guardian(runtime, '/user');
    this.systemGuardian = new Guardian(runtime, '/system');
  }

  /**
   * @internal For Casty's own packages (sharding, replication), through `spawnSystemActor` of
   * `@casty/core/internal`: spawns a framework actor under `/system`, where user spawns cannot go. Such an
   * actor is not found by name (`lookup('x')` looks in /user), is not gossiped as a user name, and is reached
   * by its path (`/system/x`), from other nodes too. System actors stop after the user's actors.
   */
  [SYSTEM_ACTORS](): Spawner {
    const guardian = this.systemGuardian;
    return {
      spawn: <TActor extends AnyActor, TArgs extends unknown[]>(actorClass: ActorClass<TActor, TArgs>,
        ...options: SpawnParams<TArgs>): Promise<ActorRef<MessageOf<TActor>>> =>
        guardian.spawnChild(actorClass as unknown as ActorClass<TActor, never[]>, options[0]),
    };
  }

  /**
   * For systems built on this one (a clustered system): when `serializeMessages` is on, messages go through
   * `roundTrip` instead of core's own codec round trip (whose refs are local ones only).
   */
  protected serializeMessagesWith(roundTrip: (msg: unknown) => unknown): void {
    const runtime = this.guardian.runtime;
    if (runtime.checkMessage !== undefined) runtime.checkMessage = roundTrip;
  }

  /** True once shutdown has begun. */
  get isShuttingDown(): boolean {
    return this.guardian.runtime.shuttingDown;
  }

  /** Creates a top-level actor (its name, if given, must be unique in the system), runs onStart, resolves with its ref. */
  spawn<TActor extends AnyActor, TArgs extends unknown[]>(actorClass: ActorClass<TActor, TArgs>,
    ...options: SpawnParams<TArgs>): Promise<ActorRef<MessageOf<TActor>>>;
  // (Extensions add overloads by declaration merging: sharding's spawn of a sharded type returns a ShardedRef.)
  spawn(actorClass: ActorClass<AnyActor, any[]>, ...options: unknown[]): Promise<unknown> {
    const given = options[0] as Readonly<Record<string, unknown>> | undefined;
    if (given !== null && typeof given === 'object' && DISTRIBUTED_OPTIONS.some((key) => key in given)) {
      for (const extension of this.extensions.values()) {
        if (extension.spawnDistributed !== undefined) {
          return extension.spawnDistributed(actorClass as unknown as ActorClass, given);
        }
      }
    }
    return this.guardian.spawnChild(actorClass as unknown as ActorClass<AnyActor, never[]>, given as SpawnOptions<unknown[]> | undefined);
  }

  /**
   * Finds an actor by the name it was spawned with (top-level), or by path (`/user/parent/child`).
   * Then asks extensions (the cluster looks on other nodes). Resolves with undefined when none has it.
   *
   * The ref is typed by the actor class (`lookup(Greeter, 'greeter')`) or a type argument
   * (`lookup<GreeterMsg>('greeter')`); neither is checked at run time (a ref to another node's actor cannot
   * tell its class), so they state what the caller knows. Untyped, the ref is an `ActorRef<never>`: it can be
   * compared, watched and stopped, but takes no message until it is given a type.
   */
  lookup<TActor extends AnyActor>(actorClass: ActorClass<TActor>, nameOrPath: string): Promise<ActorRef<MessageOf<TActor>> | undefined>;
  lookup<TMessage = never>(nameOrPath: string): Promise<ActorRef<TMessage> | undefined>;
  async lookup(...args: [nameOrPath: string] | [actorClass: unknown, nameOrPath: string]): Promise<ActorRef<unknown> | undefined> {
    const nameOrPath = args.length === 2 ? this.checkLookupClass(args[0], args[1]) : args[0];
    const local = this.lookupLocal<unknown>(nameOrPath);
    if (local !== undefined) return local;
    for (const extension of this.extensions.values()) {
      const found = await extension.lookup?.(nameOrPath);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /**
   * Finds an actor of this process by top-level name or `/user/...` path (or a framework actor's `/system/...`),
   * synchronously; typed as `lookup` is.
   */
  lookupLocal<TActor extends AnyActor>(actorClass: ActorClass<TActor>, nameOrPath: string): ActorRef<MessageOf<TActor>> | undefined;
  lookupLocal<TMessage = never>(nameOrPath: string): ActorRef<TMessage> | undefined;
  lookupLocal(...args: [nameOrPath: string] | [actorClass: unknown, nameOrPath: string]): ActorRef<unknown> | undefined {
    const nameOrPath = args.length === 2 ? this.checkLookupClass(args[0], args[1]) : args[0];
    if (typeof nameOrPath !== 'string' || nameOrPath.length === 0) {
      throw new InvalidArgumentError(`lookup() needs an actor name or path, got ${JSON.stringify(nameOrPath)}`);
    }
    if (!nameOrPath.startsWith('/')) {
      return this.guardian.childCells?.get(nameOrPath)?.ref;
    }
    const parts = nameOrPath.split('/').filter((p) => p.length > 0);
    let container: ChildContainer | undefined = parts[0] === 'user' ? this.guardian
      : parts[0] === 'system' ? this.systemGuardian : undefined;
    for (const part of parts.slice(1)) container = container?.childCells?.get(part);
    return container instanceof ActorCell ? container.ref : undefined;
  }

  /** The name of a `lookup(actorClass, name)`, once the class is seen to be a function (it only types the ref). */
  private checkLookupClass(actorClass: unknown, nameOrPath: string): string {
    if (typeof actorClass !== 'function') {
      throw new InvalidArgumentError(`lookup(actorClass, name) needs an actor class first, got ${String(actorClass)}`);
    }
    return nameOrPath;
  }

  /** Attaches an extension under its key; a key can be taken once. */
  registerExtension<TExtension extends SystemExtension>(key: ExtensionKey<TExtension>, extension: TExtension): void {
    if (this.extensions.has(key.name)) {
      throw new InvalidArgumentError(`Extension '${key.name}' is already registered on system '${this.name}'`);
    }
    this.extensions.set(key.name, extension);
    if (extension.beforeShutdown !== undefined) {
      this.shutdownPhases.add('leave', `${key.name}.beforeShutdown`, () => extension.beforeShutdown?.());
    }
    if (extension.afterShutdown !== undefined) {
      this.shutdownPhases.add('close', `${key.name}.afterShutdown`, () => extension.afterShutdown?.());
    }
  }

  /** The extension registered under `key`, if any. */
  extension<TExtension extends SystemExtension>(key: ExtensionKey<TExtension>): TExtension | undefined {
    return this.extensions.get(key.name) as TExtension | undefined;
  }

  /**
   * The extension registered under `key`; throws ExtensionNotFoundError when this system has none, with `hint`
   * (how to make a system that has it) in its message. Extensions' `X.of(system)` accessors are built on it.
   */
  requireExtension<TExtension extends SystemExtension>(key: ExtensionKey<TExtension>, hint: string): TExtension {
    const found = this.extensions.get(key.name);
    if (found === undefined) {
      throw new ExtensionNotFoundError(`The actor system '${this.name}' has no '${key.name}' extension: ${hint}`);
    }
    return found as TExtension;
  }

  /**
   * Runs the shutdown phases in order: 'hand-off' (still a member and serving), 'leave', 'actors-stop' (every
   * actor stops, last spawned first, each after its children; then asks still pending are rejected), 'close'.
   * The tasks of one phase run in parallel, bounded by `shutdownPhaseTimeoutMs`; one that throws or overruns
   * is logged and shutdown goes on. Idempotent: later calls return the same promise.
   */
  shutdown(): Promise<void> {
    if (this.shutdownPromise === null) this.shutdownPromise = this.runShutdown();
    return this.shutdownPromise;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  private async runShutdown(): Promise<void> {
    const runtime = this.guardian.runtime as { shuttingDown: boolean } & Runtime;
    runtime.shuttingDown = true;
    try {
      await this.shutdownPhases.run({
        'actors-stop': async () => {
          await this.guardian.stopChildren('shutdown');
          await this.systemGuardian.stopChildren('shutdown');
          runtime.asks.rejectAll((ask) => new SystemShutdownError(this.name, `wait for a reply from ${ask.target.path}`));
        },
      });
    } finally {
      this.resolveTerminated();
    }
  }

  /** @internal For Casty's own monitoring, through `runtimeStats` of `@casty/core/internal`. */
  [RUNTIME_STATS](): RuntimeStats {
    const { dispatcher, asks } = this.guardian.runtime;
    return { messagesProcessed: dispatcher.processedTotal, asksStarted: asks.createdTotal, asksTimedOut: asks.timedOutTotal,
      asksPending: asks.pending };
  }

  /** @internal For Casty's telemetry, through `observeAsks` of `@casty/core/internal`. */
  [OBSERVE_ASKS](observer: AskObserver | undefined): void {
    this.guardian.runtime.asks.observer = observer;
  }

  /** @internal For Casty's telemetry, through `mailboxDepths` of `@casty/core/internal`. */
  [MAILBOX_DEPTHS](): MailboxDepths {
    let queued = 0;
    let deepest = 0;
    const pending: ChildContainer[] = [this.guardian, this.systemGuardian];
    for (let container = pending.pop(); container !== undefined; container = pending.pop()) {
      for (const cell of container.childCells?.values() ?? []) {
        const size = cell.mailboxSize;
        queued += size;
        if (size > deepest) deepest = size;
        pending.push(cell);
      }
    }
    return { queued, deepest };
  }

  /** @internal Number of asks waiting for a reply (diagnostics and leak tests). */
  get pendingAsks(): number {
    return this.guardian.runtime.asks.pending;
  }
}

/** The parent of top-level actors (`/user`) or of the framework's own (`/system`): supervises them with the default strategy. */
class Guardian extends ChildContainer {
  constructor(readonly runtime: Runtime, readonly path: '/user' | '/system') {
    super();
  }

  supervisorConfig(): SupervisorConfig {
    return defaultSupervisorConfig;
  }

  /** A top-level actor escalated: the system decides with the default strategy (restart). */
  escalate(child: ActorCell, error: unknown, origin: FailureOrigin): void {
    superviseFailure(this, child, error, undefined, SupervisionStrategy.RESTART, origin);
  }

  protected createCell(name: string, actorClass: ActorClass, args: unknown[], instance: AnyActor,
    mailbox: MailboxOptions | undefined): ActorCell {
    return new ActorCell(this.runtime, this, name, actorClass, args, instance as unknown as Actor<unknown>, mailbox);
  }
}

/** A codec round trip for local messages; refs inside them travel as paths and are looked up again. */
function wireRoundTrip(system: ActorSystem): (msg: unknown) => unknown {
  const codec = new Codec({
    refs: {
      isRef: (value: unknown): value is LocalActorRef<unknown> => value instanceof LocalActorRef,
      toWire: (ref: LocalActorRef<unknown>) => ref.path,
      fromWire: (path: unknown) => system.lookupLocal(String(path)) ?? new StoppedActorRef(String(path), system),
    },
  });
  return (msg) => codec.decode(codec.encode(msg));
}

