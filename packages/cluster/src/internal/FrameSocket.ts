// FrameSocket: one socket seen as a stream of frames. It owns the socket's raw events and the decoder,
// turns every way a connection can end (peer closed, reset, malformed bytes, a handler's protocol error)
// into exactly one `onClose(reason)`, and stops reading the moment the connection is failed, so nothing
// after a bad frame is ever interpreted.

import type { Socket } from 'node:net';
import { ConnectionLostError, MalformedFrameError } from '../transport/errors';
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
}

export class FrameSocket {
  private readonly decoder: FrameDecoder;
  private closed = false;
  private socketError: Error | undefined;

  constructor(readonly socket: Socket, private peerName: string, maxPayloadBytes: number,
    private readonly events: FrameSocketEvents, private readonly counters: SocketCounters) {
    this.decoder = new FrameDecoder(peerName, maxPayloadBytes);
    // We batch frames ourselves, so Nagle's delay would only add latency.
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      if (this.decoder.bufferedBytes > 0) {
        this.fail(new MalformedFrameError(this.peerName,
          `connection ended inside a frame (${this.decoder.bufferedBytes} bytes of a truncated frame)`));
      }
    });
    socket.on('error', (err: Error) => {
      this.socketError ??= err;
    });
    socket.on('close', () => {
      const cause = this.socketError;
      this.finish(new ConnectionLostError(this.peerName, cause === undefined ? 'closed by the peer' : cause.message,
        cause === undefined ? undefined : { cause }));
    });
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

  /** Writes bytes; false means the socket's buffer is full and the caller should wait for 'drain'. */
  write(bytes: Buffer): boolean {
    this.counters.socketWrites++;
    this.counters.bytesWritten += bytes.length;
    return this.socket.write(bytes);
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
    this.decoder.push(chunk);
    try {
      for (let frame = this.decoder.next(); frame !== undefined; frame = this.closed ? undefined : this.decoder.next()) {
        this.events.onFrame(frame);
      }
    } catch (err) {
      this.fail(err instanceof Error ? err : new MalformedFrameError(this.peerName, String(err)));
    }
  }

  private finish(reason: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.decoder.clear();
    this.events.onClose(reason);
  }
}
