// The parent side of the actor tree, shared by actors and the system's guardian: named children in spawn
// order, spawning (name checks, option validation), stopping children last-spawned-first, and the
// supervision decision when a child fails.

import type { ActorRef } from '../ActorRef';
import { Actor } from '../Actor';
import { ActorInitializationError, ActorNameTakenError, InvalidArgumentError, SystemShutdownError } from '../errors';
import type { ActorClass, AnyActor, MailboxOptions, MessageOf, SpawnOptions } from '../spawn';
import { ACTOR_NAME_RULE, MailboxOverflow, MAX_ACTOR_NAME_BYTES } from '../spawn';
import type { StopReason } from '../events';
import type { SupervisorConfig } from '../supervision';
import type { ActorCell } from './ActorCell';
import type { Runtime } from './Runtime';
import type { FailureOrigin } from './Supervisor';

const overflowPolicies = new Set<string>(Object.values(MailboxOverflow));
const EMPTY_ARGS: unknown[] = [];

export abstract class ChildContainer {
  /** Live children by name, in spawn order (a Map keeps insertion order); null until the first child. */
  childCells: Map<string, ActorCell> | null = null;
  private anonymousCounter = 0;

  abstract readonly runtime: Runtime;
  abstract readonly path: string;
  /** This container's own supervision config (for `multiChild`). */
  abstract supervisorConfig(): SupervisorConfig;
  /** A child asked to escalate its failure: this container fails with the same error. */
  abstract escalate(child: ActorCell, error: unknown, origin: FailureOrigin): void;
  /** The cell class, injected to avoid an import cycle. */
  protected abstract createCell(name: string, actorClass: ActorClass, args: unknown[], instance: AnyActor,
    mailbox: MailboxOptions | undefined): ActorCell;

  spawnChild<TActor extends AnyActor>(actorClass: ActorClass<TActor, never[]>,
    options: SpawnOptions<unknown[]> | undefined): Promise<ActorRef<MessageOf<TActor>>> {
    try {
      const cell = this.prepareChild(actorClass as unknown as ActorClass, options);
      return cell.start() as Promise<ActorRef<MessageOf<TActor>>>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Creates the child at once and starts it: the ref is usable at once (messages sent to it wait in its mailbox
   * until its onStart has run); `started` settles as spawn's promise would. For a parent that must route to a child
   * in the same turn it creates it (a shard region creating an entity on its first message).
   */
  spawnChildNow(actorClass: ActorClass, options: SpawnOptions<unknown[]> | undefined,
    prepare?: (instance: AnyActor) => void): { ref: ActorRef<unknown>; started: Promise<unknown> } {
    const cell = this.prepareChild(actorClass, options);
    if (prepare !== undefined) {
      try {
        prepare(cell.instanceForPrepare());
      } catch (error) {
        this.childCells?.delete(cell.name);
        throw error;
      }
    }
    return { ref: cell.ref, started: cell.start() };
  }

  private prepareChild(actorClass: ActorClass, options: SpawnOptions<unknown[]> | undefined): ActorCell {
    const runtime = this.runtime;
    if (!isActorClass(actorClass)) {
      throw new InvalidArgumentError(`spawn() needs a class that extends Actor (class MyActor extends Actor<Msg> { ... }), ` +
        `got ${describeNonActor(actorClass)}`);
    }
    if (runtime.shuttingDown) throw new SystemShutdownError(runtime.system.name, `spawn ${actorClass.name}`);
    if (options !== undefined) validateOptionKeys(actorClass.name, options);
    const name = options?.name;
    if (name !== undefined) validateName(actorClass.name, name);
    const args = options?.args ?? EMPTY_ARGS;
    if (!Array.isArray(args)) {
      throw new InvalidArgumentError(
        `spawn(${actorClass.name}): 'args' must be an array of constructor arguments, got ${describeValue(args)}`);
    }
    const mailbox = options?.mailbox;
    if (mailbox !== undefined) validateMailbox(actorClass.name, mailbox);
    const childName = name ?? this.nextAnonymousName();
    if (this.childCells?.has(childName)) throw new ActorNameTakenError(childName, this.path);
    let instance: AnyActor;
    try {
      instance = new actorClass(...(args as never[]));
    } catch (error) {
      throw new ActorInitializationError(`${this.path}/${childName}`, error);
    }
    const cell = this.createCell(childName, actorClass, args, instance, mailbox);
    (this.childCells ??= new Map()).set(childName, cell);
    return cell;
  }

  private nextAnonymousName(): string {
    return `$${(this.anonymousCounter++).toString(36)}`;
  }

  /** Forgets a child that stopped. */
  removeChild(child: ActorCell): void {
    if (this.childCells?.get(child.name) === child) {
      this.childCells.delete(child.name);
      if (this.childCells.size === 0) this.childCells = null;
    }
  }

  /** Stops every child, last spawned first, each with its own children first. */
  async stopChildren(reason: StopReason): Promise<void> {
    if (this.childCells === null) return;
    const all = [...this.childCells.values()];
    for (let i = all.length - 1; i >= 0; i--) await all[i]!.stopSelf(reason);
  }

  /** The children restarted along with `failed`, in spawn order, per this container's multiChild strategy. */
  restartScope(failed: ActorCell): ActorCell[] {
    const strategy = this.supervisorConfig().multiChild;
    if (strategy === 'one_for_one' || this.childCells === null) return [failed];
    const all = [...this.childCells.values()];
    if (strategy === 'one_for_all') return all;
    const index = all.indexOf(failed);
    return index < 0 ? [failed] : all.slice(index);
  }
}

// Set on Actor under a registry symbol, so a subclass of Actor from another copy of this package (two
// installs, or a module loaded twice) is recognized too: statics are inherited along the constructor chain.
const ACTOR_BRAND = Symbol.for('casty.Actor');
Object.defineProperty(Actor, ACTOR_BRAND, { value: true });

/** Whether `value` is a class extending Actor (of this copy of the package or of another one). */
function isActorClass(value: unknown): value is ActorClass {
  if (typeof value !== 'function') return false;
  const prototype = (value as { prototype?: unknown }).prototype;
  if (typeof prototype !== 'object' || prototype === null) return false; // an arrow or async function, a method
  return prototype instanceof Actor || (value as unknown as Record<symbol, unknown>)[ACTOR_BRAND] === true;
}

function describeNonActor(value: unknown): string {
  if (typeof value !== 'function') return value === null ? 'null' : `${typeof value} ${shortly(value)}`;
  const name = value.name === '' ? '(anonymous)' : value.name;
  const source = Function.prototype.toString.call(value);
  if (source.startsWith('class')) return `the class ${name}, which does not extend Actor`;
  if (typeof (value as { prototype?: unknown }).prototype !== 'object') return `the arrow (or async) function ${name}`;
  return `the plain function ${name}`;
}

function shortly(value: unknown): string {
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  return shown.length > 80 ? `${shown.slice(0, 80)}...` : shown;
}

const FORBIDDEN_IN_NAME = /[\s\p{C}/]/u;

function validateName(actorName: string, name: unknown): void {
  let problem: string | undefined;
  if (typeof name !== 'string') problem = `it is a ${name === null ? 'null' : typeof name}, not a string`;
  else if (name.length === 0) problem = 'it is empty';
  else if (name.startsWith('$')) problem = `it starts with '$' (reserved for generated names)`;
  else if (Buffer.byteLength(name) > MAX_ACTOR_NAME_BYTES) {
    problem = `it is ${Buffer.byteLength(name)} UTF-8 bytes, over the limit of ${MAX_ACTOR_NAME_BYTES}`;
  } else {
    const bad = FORBIDDEN_IN_NAME.exec(name);
    if (bad !== null) {
      const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      problem = `it holds ${bad[0] === '/' ? "'/'" : `U+${code}`} at index ${bad.index}`;
    }
  }
  if (problem === undefined) return;
  const shown = typeof name === 'string' ? JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}...` : name) : shortly(name);
  throw new InvalidArgumentError(`Actor name ${shown} for ${actorName} is invalid: ${problem}. ${ACTOR_NAME_RULE}`);
}

const SPAWN_OPTIONS = ['name', 'args', 'mailbox'] as const;
const MAILBOX_OPTIONS = ['capacity', 'overflow'] as const;
// Options of a clustered system's top-level spawn (sharding takes them there, see ActorSystem.spawn): anywhere
// else they must not quietly make a plain local actor.
const NEEDS_SHARDING = new Set(['sharded', 'singleton', 'replication']);

/** Spawn options are an object with only the keys the runtime knows (a typo would otherwise be ignored). */
function validateOptionKeys(actorName: string, options: unknown): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`spawn(${actorName}): the options must be an object like { name, args, mailbox }, ` +
      `got ${describeValue(options)}`);
  }
  const keys = Object.keys(options);
  const clusterOnly = keys.find((key) => NEEDS_SHARDING.has(key));
  if (clusterOnly !== undefined) {
    throw new InvalidArgumentError(`spawn(${actorName}): '${clusterOnly}' needs a clustered system: a top-level ` +
      `system.spawn on a node made by clustered() from 'casty' (ActorSystem.create() makes a local system, and ` +
      `ctx.spawn makes children, which are never sharded)` +
      (clusterOnly === 'sharded' ? '' : `; '${clusterOnly}' itself is still being built on sharding`));
  }
  const unknown = keys.filter((key) => !(SPAWN_OPTIONS as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(`spawn(${actorName}): ${describeUnknown('option', unknown, SPAWN_OPTIONS)}; ` +
      `the options are ${listed(SPAWN_OPTIONS)}`);
  }
}

function describeUnknown(what: string, unknown: readonly string[], known: readonly string[]): string {
  const each = unknown.map((key) => {
    const near = known.find((k) => isNear(key, k));
    return near === undefined ? `'${key}'` : `'${key}' (did you mean '${near}'?)`;
  });
  return `unknown ${what}${unknown.length > 1 ? 's' : ''} ${each.join(', ')}`;
}

function listed(items: readonly string[]): string {
  return items.length === 1 ? items[0]! : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]!}`;
}

/** A likely typo of `known`: within two edits, or a prefix of it of 3 or more characters, ignoring case. */
function isNear(key: string, known: string): boolean {
  const a = key.toLowerCase();
  const b = known.toLowerCase();
  if (a.length >= 3 && b.startsWith(a)) return true;
  if (Math.abs(a.length - b.length) > 2) return false;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]! <= 2;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `${typeof value} ${shortly(value)}`;
}

function validateMailbox(actorName: string, mailbox: MailboxOptions): void {
  if (typeof mailbox !== 'object' || mailbox === null || Array.isArray(mailbox)) {
    throw new InvalidArgumentError(`spawn(${actorName}): 'mailbox' must be an object like ` +
      `{ capacity: 100, overflow: 'drop-newest' }, got ${describeValue(mailbox)}`);
  }
  const unknown = Object.keys(mailbox).filter((key) => !(MAILBOX_OPTIONS as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(`spawn(${actorName}): ${describeUnknown('mailbox option', unknown, MAILBOX_OPTIONS)}; ` +
      `the mailbox options are ${listed(MAILBOX_OPTIONS)}`);
  }
  if (!Number.isInteger(mailbox.capacity) || mailbox.capacity < 1) {
    throw new InvalidArgumentError(
      `spawn(${actorName}): mailbox.capacity must be a whole number >= 1, got ${String(mailbox.capacity)}`);
  }
  if (mailbox.overflow !== undefined && !overflowPolicies.has(mailbox.overflow)) {
    throw new InvalidArgumentError(
      `spawn(${actorName}): mailbox.overflow must be one of ${[...overflowPolicies].join(', ')}, got ${String(mailbox.overflow)}`);
  }
}
