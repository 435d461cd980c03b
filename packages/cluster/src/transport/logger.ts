// The transport's logging seam: a tiny interface so an application plugs in its own logger and tests
// capture what the transport reports (refused peers, malformed frames) instead of reading the console.

/** Where the transport reports what happened on its connections. `error` is a typed CastyError where known. */
export interface TransportLogger {
  /** Routine events: connections opened and closed. */
  debug(message: string, error?: Error): void;
  /** A peer misbehaved or a connection failed; the node keeps serving everyone else. */
  warn(message: string, error?: Error): void;
  /** Something in this node is wrong (for example a frame handler threw). */
  error(message: string, error?: Error): void;
}

/** The default logger: warnings and errors to `console.warn`, debug dropped. */
export const consoleTransportLogger: TransportLogger = {
  debug() {
    // Routine connection events would flood the console of every node; pass a logger to see them.
  },
  warn(message, error) {
    console.warn(`[casty transport] ${message}`, ...(error === undefined ? [] : [error.message]));
  },
  error(message, error) {
    console.warn(`[casty transport] ERROR ${message}`, ...(error === undefined ? [] : [error]));
  },
};
