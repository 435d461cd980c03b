// FrameSocket: one socket seen as a stream of frames. It owns the socket's raw events and the decoder,
// turns every way a connection can end (peer closed, reset, malformed bytes, a handler's protocol error)
// into exactly one `onClose(reason)`, and stops reading the moment the connection is failed, so nothing
// after a bad frame is ever interpreted.
//
// Reading yields: after READ_BUDGET_MS of handling frames in one turn of the event loop, over all of the process's
// connections, a socket pauses and goes on from setImmediate, so a flood (libuv reads up to 32 chunks of 64 KiB per
// socket per turn) never keeps the event loop from timers and from the other connections, the control lane's probes
// among them. Frames received before the peer closed are still handed over, in order, before `onClose`.

import type { Socket } from 'node:net';
import { CLOSED_BY_PEER, ConnectionLostError, MalformedFrameError } from '../transport/errors';
import { FrameDecoder } from '../transport/frame';
import type { Frame } from '../transport/frame';

/** What the owner of a FrameSocket is told. */
export interface FrameSocketEvents {
  /** A complete frame; throwing fails the connection with the thrown error. */
  onFrame(frame: Frame): void;
  /** The connection is gone; called exactly once, with why. */
  onClose(reason: Error): void;
}

/** Counters shared by all of a transport's sockets. */
export interface SocketCounters {
  socketWrites: number;
  bytesWritten: number;
  bytesRead: number;
}

/** Milliseconds of frame handling in one turn of the event loop after which reading pauses until the next turn. */
export const READ_BUDGET_MS = 4;
/** Frames handled between two looks at the time... */
const FRAMES_PER_CLOCK_CHECK = 64;
/** ...or payload bytes, whichever comes first: 64 frames of a replica transfer (1 MiB each) took a third of a second. */
const BYTES_PER_CLOCK_CHECK = 256 * 1024;

/**
 * The reading turn every FrameSocket of the process shares: when its frame handling began (-1: not yet in this turn
 * of the event loop). A budget per socket and per 'data' event never ran out: each 64 KiB chunk of a stream of
 * 1 MiB frames completes at most one frame, and a joiner reading four such streams spent 100 to 170 ms per turn
 * (8 MiB) before it looked at its timers, which made it miss its quorum pings.
 */
let turnStartedAt = -1;

/** When this turn's reading began (now, if it had not); set back once the event loop turns. */
function readingTurn(): number {
  if (turnStartedAt < 0) {
    turnStartedAt = performance.now();
    setImmediate(() => {
      turnStartedAt = -1;
    });
  }
  return turnStartedAt;
}

export class FrameSocket {
  private readonly decoder: FrameDecoder;
  private closed = false;
  private socketError: Error | undefined;
  /** Reading is paused until a setImmediate continues decoding what is buffered. */
  private yielded = false;
  /** Set by the owner: reading stays paused (no frames handed over) until `resume()`. */
  private held = false;
  private ended = false;
  /**
   * Bytes received and writes made so far: the transport's periodic sweep compares them with what it saw last
   * time to tell an idle or stalled connection (cheaper on every read and write than reading a clock).
   */
  bytesReceived = 0;
  writes = 0;

  constructor(readonly socket: Socket, private peerName: string, maxPayloadBytes: number,
    private readonly events: FrameSocketEvents, private readonly counters: SocketCounters) {
    this.decoder = new FrameDecoder(peerName, maxPayloadBytes);
    // We batch frames ourselves, so Nagle's delay would only add latency.
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      this.ended = true;
      this.checkEnd();
    });
    socket.on('error', (err: Error) => {
      this.socketError ??= err;
    });
    socket.on('close', () => {
      const cause = this.socketError;
      // Whole frames that arrived before the close (or the reset) are delivered first, at once: the socket will
      // give nothing more. (Not after this side failed the connection: then `closed` is already set.)
      if (!this.held) this.drain(Number.POSITIVE_INFINITY);
      this.finish(new ConnectionLostError(this.peerName, cause === undefined ? CLOSED_BY_PEER : cause.message,
        cause === undefined ? undefined : { cause }));
    });
  }

  /** Stops handing frames over (they wait in the socket) until `resume()`. */
  hold(): void {
    this.held = true;
    this.socket.pause();
  }

  /** Hands frames over again after `hold()`. */
  resume(): void {
    if (!this.held || this.closed) return;
    this.held = false;
    this.continueReading();
  }

  /** Who is on the other end, for messages; refined once the handshake names the peer. */
  get peer(): string {
    return this.peerName;
  }

  set peer(name: string) {
    this.peerName = name;
  }

  /** True once the connection failed or closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Largest payload accepted from now on (small during the handshake, maxFrameBytes after). */
  setMaxPayloadBytes(bytes: number): void {
    this.decoder.maxPayloadBytes = bytes;
  }

  /**
   * Writes bytes; false means the socket's buffer is full and the caller should wait for 'drain'. `done` is
   * called once the bytes reached the operating system, or with an error if they never will.
   */
  write(bytes: Buffer, done?: (error?: Error | null) => void): boolean {
    this.counters.socketWrites++;
    this.counters.bytesWritten += bytes.length;
    this.writes++;
    return this.socket.write(bytes, done);
  }

  /**
   * Fails the connection: stops reading, closes the socket and reports `reason`. `lastWords` (a reject
   * message) is written first, best effort, so the peer can learn why.
   */
  fail(reason: Error, lastWords?: Buffer): void {
    if (this.closed) return;
    if (lastWords !== undefined && !this.socket.destroyed) {
      this.socket.end(lastWords, () => this.socket.destroy());
    } else {
      this.socket.destroy();
    }
    this.finish(reason);
  }

  /** Closes gracefully after writing `lastBytes`; reports `reason` once the socket is gone. */
  end(lastBytes?: Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    if (lastBytes !== undefined && lastBytes.length > 0) this.write(lastBytes);
    this.socket.end();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.bytesReceived += chunk.length;
    this.counters.bytesRead += chunk.length;
    this.decoder.push(chunk);
    if (this.yielded || this.held) return; // a continuation, or resume(), will get to it
    if (performance.now() - readingTurn() >= READ_BUDGET_MS) {
      this.yieldReading(); // this turn's reading is spent (by this socket or another)
      return;
    }
    this.drain(READ_BUDGET_MS);
  }

  /**
   * Hands over the complete frames buffered, for at most `budgetMs`; if frames are left, pauses the socket and
   * continues from setImmediate. Returns when done or yielded.
   */
  private drain(budgetMs: number): void {
    // CPU time on this event loop, so real time whatever clock the transport runs on.
    const started = budgetMs === Number.POSITIVE_INFINITY ? 0 : readingTurn();
    let sinceCheck = 0;
    let bytesSinceCheck = 0;
    try {
      // held or closed is looked at before the next frame is taken: a handler that holds this socket (the handshake's
      // last frame) leaves the frames after it in the decoder
      while (!this.closed && !this.held) {
        const frame = this.decoder.next();
        if (frame === undefined) break;
        this.events.onFrame(frame);
        if (frame.borrowed === true) this.decoder.release();
        bytesSinceCheck += frame.payload.length;
        if (++sinceCheck === FRAMES_PER_CLOCK_CHECK || bytesSinceCheck >= BYTES_PER_CLOCK_CHECK) {
          sinceCheck = 0;
          bytesSinceCheck = 0;
          if (performance.now() - started >= budgetMs && !this.closed) {
            this.yieldReading();
            return;
          }
        }
      }
    } catch (err) {
      this.fail(err instanceof Error ? err : new MalformedFrameError(this.peerName, String(err)));
      return;
    }
    this.checkEnd();
  }

  private yieldReading(): void {
    this.yielded = true;
    this.socket.pause();
    setImmediate(() => {
      this.yielded = false;
      if (this.closed || this.held) return;
      this.continueReading();
    });
  }

  private continueReading(): void {
    this.drain(READ_BUDGET_MS);
    if (!this.yielded && !this.held && !this.closed) this.socket.resume();
  }

  /** After the peer's end: whatever is left in the decoder is a truncated frame. */
  private checkEnd(): void {
    if (this.ended && !this.yielded && !this.held && !this.closed && this.decoder.bufferedBytes > 0) {
      this.fail(new MalformedFrameError(this.peerName,
        `connection ended inside a frame (${this.decoder.bufferedBytes} bytes of a truncated frame)`));
    }
  }

  private finish(reason: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.decoder.clear();
    this.events.onClose(reason);
  }
}
