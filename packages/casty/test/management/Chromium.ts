// A headless Chromium driven over the DevTools protocol through a pipe (--remote-debugging-pipe: commands on
// fd 3, answers and events on fd 4, each a JSON text ended by a NUL byte), so the dashboard's browser test needs
// no dependency and downloads no browser: it runs the machine's own chromium (Debian's package), or says why not.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The browser to run: $CHROMIUM, else the first of the usual paths that exists; undefined when none does. */
export function findChromium(): string | undefined {
  const given = process.env.CHROMIUM;
  if (given !== undefined && given !== '') return existsSync(given) ? given : undefined;
  return CANDIDATES.find((path) => existsSync(path));
}

/** What the page reported as an error: console.error, an uncaught exception, or a failed load in its log. */
export interface PageError {
  readonly source: 'console' | 'exception' | 'log';
  readonly text: string;
}

type Listener = (params: Record<string, unknown>, sessionId: string | undefined) => void;

export class Chromium {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(result: Record<string, unknown>): void; reject(error: Error): void }>();
  private readonly listeners = new Map<string, Listener[]>();
  private buffered = '';
  private exited = false;

  private constructor(private readonly child: ChildProcess, private readonly profile: string) {
    const input = child.stdio[4] as Readable;
    input.on('data', (chunk: Buffer) => this.onData(chunk.toString()));
    child.once('exit', () => {
      this.exited = true;
      for (const { reject } of this.pending.values()) reject(new Error('chromium exited'));
      this.pending.clear();
    });
  }

  /** Starts `executable` headless with a fresh profile. */
  static launch(executable: string): Chromium {
    const profile = mkdtempSync(join(tmpdir(), 'casty-chromium-'));
    const child = spawn(executable, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
      '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
      // its own process group, so that close() ends its helper processes (zygote, crashpad) with it
      detached: true,
    });
    child.stderr?.resume();
    return new Chromium(child, profile);
  }

  /** Sends a command (to a page when `sessionId` is given) and resolves with its result. */
  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`chromium exited; cannot send ${method}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      (this.child.stdio[3] as Writable).write(`${JSON.stringify({ id, method, params, ...(sessionId === undefined ? {} : { sessionId }) })}\0`);
    });
  }

  on(method: string, listener: Listener): void {
    this.listeners.set(method, [...(this.listeners.get(method) ?? []), listener]);
  }

  /** Opens a page of `width` x `height` CSS pixels, collecting its errors, and navigates it to `url`. */
  async open(url: string, width = 1440, height = 960): Promise<Page> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true }) as { sessionId: string };
    const page = new Page(this, sessionId);
    this.on('Runtime.consoleAPICalled', (p, s) => {
      if (s === sessionId && (p.type === 'error' || p.type === 'assert')) {
        page.errors.push({ source: 'console', text: JSON.stringify(p.args) });
      }
    });
    this.on('Runtime.exceptionThrown', (p, s) => {
      if (s === sessionId) page.errors.push({ source: 'exception', text: JSON.stringify(p.exceptionDetails) });
    });
    this.on('Log.entryAdded', (p, s) => {
      const entry = p.entry as { level: string; text: string; url?: string };
      if (s === sessionId && entry.level === 'error') page.errors.push({ source: 'log', text: `${entry.text} ${entry.url ?? ''}` });
    });
    for (const domain of ['Runtime.enable', 'Log.enable', 'Page.enable']) await this.send(domain, {}, sessionId);
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false }, sessionId);
    await this.send('Page.navigate', { url }, sessionId);
    return page;
  }

  /** Ends the browser and removes its profile. */
  async close(): Promise<void> {
    if (!this.exited) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      try {
        process.kill(-this.child.pid!, 'SIGKILL'); // the whole group: the browser and its helpers
      } catch {
        this.child.kill('SIGKILL');
      }
      await exited;
    }
    // a helper that was still exiting may write into the profile a moment longer: Node's rm tries again on
    // ENOTEMPTY; a profile left in the temporary directory after that is not what the test checks
    try {
      rmSync(this.profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (error) {
      process.stderr.write(`chromium's profile ${this.profile} was left behind: ${String(error)}\n`);
    }
  }

  private onData(text: string): void {
    const parts = (this.buffered + text).split('\0');
    this.buffered = parts.pop() ?? '';
    for (const part of parts) {
      const message = JSON.parse(part) as { id?: number; method?: string; params?: Record<string, unknown>; sessionId?: string;
        result?: Record<string, unknown>; error?: { message: string } };
      if (message.id !== undefined) {
        const waiting = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error !== undefined) waiting?.reject(new Error(`DevTools: ${message.error.message}`));
        else waiting?.resolve(message.result ?? {});
      } else if (message.method !== undefined) {
        for (const listener of this.listeners.get(message.method) ?? []) listener(message.params ?? {}, message.sessionId);
      }
    }
  }
}

/** One page: evaluate expressions in it, take screenshots, read the errors it reported. */
export class Page {
  readonly errors: PageError[] = [];

  constructor(private readonly browser: Chromium, private readonly sessionId: string) {}

  /** The value of `expression` (JSON-serialisable) evaluated in the page. */
  async evaluate<T>(expression: string): Promise<T> {
    const { result, exceptionDetails } = await this.browser.send('Runtime.evaluate',
      { expression, returnByValue: true, awaitPromise: true }, this.sessionId) as { result: { value: T }; exceptionDetails?: unknown };
    if (exceptionDetails !== undefined) throw new Error(`${expression} threw: ${JSON.stringify(exceptionDetails)}`);
    return result.value;
  }

  /** A PNG of the viewport. */
  async screenshot(): Promise<Buffer> {
    const { data } = await this.browser.send('Page.captureScreenshot', { format: 'png' }, this.sessionId) as { data: string };
    return Buffer.from(data, 'base64');
  }
}
