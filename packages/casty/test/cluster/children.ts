// Starting cluster nodes as real child processes (fixtures/node.ts run by tsx against the built `casty`),
// reading the port each one bound and the events it reports, sending it commands, and killing every one of
// them after each test.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { waitUntil } from '@casty/cluster/testing';
import type { NodeArgs } from './fixtures/protocol';

const root = join(__dirname, '..', '..', '..', '..');
const fixture = join(__dirname, 'fixtures', 'node.ts');

/** The JSON argument of fixtures/node.ts. */
export type ChildArgs = NodeArgs;

/** How to start the process: by default node itself; `prefix` runs it through a command (e.g. nsenter). */
export interface StartOptions {
  readonly prefix?: readonly string[];
}

/** A membership event as a child reported it (`at` in epoch milliseconds, `view` its members() after it). */
export interface ChildEvent {
  readonly type: 'MemberUp' | 'MemberSuspect' | 'MemberAlive' | 'MemberDown' | 'MemberLeft';
  readonly node: string;
  readonly state: string;
  readonly incarnation: number;
  readonly at: number;
  readonly view: string[];
}

/** A log line a child printed (with logDebug). */
export interface ChildLog {
  readonly level: string;
  readonly message: string;
  readonly at: number;
}

const running = new Set<ChildNode>();

/** A node running in its own process. */
export class ChildNode {
  /** Every membership event this node reported, in order. */
  readonly events: ChildEvent[] = [];
  /** Every log line it printed (with logDebug). */
  readonly logs: ChildLog[] = [];
  private stdout = '';
  private stderr = '';
  private partial = '';
  private exitCode: number | null | undefined = undefined;
  private readonly exited: Promise<void>;
  private nextId = 1;
  private readonly replies = new Map<number, { resolve(reply: Record<string, unknown>): void; reject(error: Error): void }>();

  private constructor(readonly nodeId: string, private readonly host: string, private readonly process: ChildProcess) {
    process.stdout?.on('data', (chunk: Buffer) => this.onStdout(chunk.toString()));
    process.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    process.stdin?.on('error', () => undefined); // a command to a node that just died
    this.exited = new Promise((resolve) => process.once('exit', (code) => {
      this.exitCode = code;
      running.delete(this);
      for (const { reject } of this.replies.values()) reject(new Error(`node '${nodeId}' exited before answering`));
      this.replies.clear();
      resolve();
    }));
  }

  /** Starts a node and resolves once it prints the port it listens on. */
  static async start(args: ChildArgs, options: StartOptions = {}): Promise<ChildNode> {
    const [command, ...prefixArgs] = [...(options.prefix ?? []), process.execPath];
    const child = spawn(command!, [...prefixArgs, '--import', 'tsx', fixture, JSON.stringify({ port: 0, ...args })], {
      cwd: root,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(__dirname, 'tsconfig.children.json') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const node = new ChildNode(args.nodeId, args.host ?? '127.0.0.1', child);
    running.add(node);
    await waitUntil(`node '${args.nodeId}' prints LISTENING`, () => {
      if (node.exitCode !== undefined) throw new Error(`node '${args.nodeId}' exited with ${node.exitCode}:\n${node.stderr}`);
      return /LISTENING \d+/.test(node.stdout);
    }, 30_000, () => ({ stdout: node.stdout, stderr: node.stderr }));
    return node;
  }

  /** The port the node bound. */
  get port(): number {
    return Number(/LISTENING (\d+)/.exec(this.stdout)?.[1]);
  }

  /** The URL of its management endpoint, when started with `management: true`. */
  get managementUrl(): string | undefined {
    return /MANAGEMENT (\S+)/.exec(this.stdout)?.[1];
  }

  /** `<host>:<port>` (host 127.0.0.1 unless started with another), for seeds. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** True until the process has exited. */
  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /** What the node wrote to stderr so far. */
  get errors(): string {
    return this.stderr;
  }

  /** Sends `signal` and resolves once the process has exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.exitCode === undefined) this.process.kill(signal);
    await this.exited;
  }

  /** Sends `signal` without waiting for anything (SIGSTOP, SIGCONT). */
  signal(signal: NodeJS.Signals): void {
    if (this.exitCode === undefined) this.process.kill(signal);
  }

  /**
   * Sends a command (see fixtures/node.ts) and resolves with the node's reply; rejects after `timeoutMs`
   * (a stopped or blocked node does not answer) or if the node exits first.
   */
  request(cmd: string, fields: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.exitCode !== undefined) {
        reject(new Error(`node '${this.nodeId}' has exited`));
        return;
      }
      const timer = setTimeout(() => {
        this.replies.delete(id);
        reject(new Error(`node '${this.nodeId}' did not answer ${cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = <T>(settle: (value: T) => void) => (value: T) => {
        clearTimeout(timer);
        this.replies.delete(id);
        settle(value);
      };
      this.replies.set(id, { resolve: done(resolve), reject: done(reject) });
      this.process.stdin?.write(`${JSON.stringify({ id, cmd, ...fields })}\n`);
    });
  }

  private onStdout(text: string): void {
    this.stdout += text;
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const space = line.indexOf(' ');
      const [kind, rest] = [line.slice(0, space), line.slice(space + 1)];
      if (kind === 'EVENT') this.events.push(JSON.parse(rest) as ChildEvent);
      else if (kind === 'LOG') this.logs.push(JSON.parse(rest) as ChildLog);
      else if (kind === 'REPLY') {
        const reply = JSON.parse(rest) as Record<string, unknown> & { id: number };
        this.replies.get(reply.id)?.resolve(reply);
      }
    }
  }
}

/** Kills every child still running (call from afterEach). */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((node) => node.kill()));
}
