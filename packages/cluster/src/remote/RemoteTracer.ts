// The seam through which casty's telemetry (OpenTelemetry) traces remote asks. Remote messaging knows no
// tracing library: it asks the tracer, when one is set, for the context to carry in an ASK_TRACED envelope and
// tells it when the ask settles; on the answering node it lets the tracer run the delivery inside the received
// context. Without a tracer the ask path is what it was (one null check).

import type { NodeId } from '../transport/Transport';

/** The asking side of one traced remote ask (its client span). */
export interface ClientAskTrace {
  /** What the envelope carries: the W3C traceparent, then a newline and the tracestate; '' sends a plain ASK. */
  readonly context: string;
  /** The ask settled: with its reply (`failed` false) or `error`. Called once. */
  settled(failed: boolean, error: unknown): void;
}

/** The answering side of one traced remote ask (its server span). */
export interface ServerAskTrace {
  /** Runs `deliver` (the delivery of the ask to its actor) inside the received trace context. */
  run(deliver: () => void): void;
  /** The reply (`failed` false) or the error went back to the asker. Called once. */
  settled(failed: boolean, error: unknown): void;
}

/** Traces remote asks; set with `RemoteMessaging.traceWith`. */
export interface RemoteTracer {
  /** A remote ask of `msg` to the actor at `path` starts, in the caller's context. */
  clientAsk(path: string, msg: unknown): ClientAskTrace;
  /** An ask of `msg` from node `from` to the local actor at `path` arrived with trace context `context`. */
  serverAsk(context: string, path: string, msg: unknown, from: NodeId): ServerAskTrace;
}
