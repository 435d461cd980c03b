// OpenTelemetry for one node, started by `clustered({ telemetry: { api } })`: the metrics of TelemetryMetrics
// on the meter 'casty', and the spans of AskTracing on the tracer 'casty', both from the API's global providers
// (whatever SDK the application registered; without one, the API's no-ops). Without the option none of this
// exists: core's asks and remote messaging keep no observer, and their hot paths pay one null check.

import { ExtensionKey, InvalidArgumentError } from '@casty/core';
import type { ActorSystem, SystemExtension } from '@casty/core';
import { observeAsks } from '@casty/core/internal';
import { RemoteMessaging } from '@casty/cluster';
import type { ClusteredActorSystem } from '@casty/cluster';
import { AskTracing } from './AskTracing';
import { TelemetryMetrics } from './TelemetryMetrics';
import { resolveTelemetryOptions } from './TelemetryOptions';
import type { ResolvedTelemetryOptions, TelemetryOptions } from './TelemetryOptions';

/** Name of the meter and the tracer (the instrumentation scope). */
export const INSTRUMENTATION_SCOPE = 'casty';

export class Telemetry implements SystemExtension {
  static readonly key = new ExtensionKey<Telemetry>('casty.telemetry');

  /** The telemetry of `system`, or undefined when it was started without the `telemetry` option. */
  static of(system: ActorSystem): Telemetry | undefined {
    return system.extension(Telemetry.key);
  }

  /**
   * Starts exporting `system`'s metrics and traces through `options.api`: what `clustered({ telemetry })` does,
   * for a node composed otherwise (`startNode`). Options are checked here, as clustered() checks them.
   * @throws {InvalidArgumentError} for a wrong option, or when the node already has telemetry.
   */
  static start(system: ClusteredActorSystem, options: TelemetryOptions): Telemetry {
    const resolved = resolveTelemetryOptions(options);
    if (Telemetry.of(system) !== undefined) {
      throw new InvalidArgumentError(`Telemetry is already started on node '${system.nodeId}'; start it once per node`);
    }
    const telemetry = new Telemetry(system, resolved);
    system.registerExtension(Telemetry.key, telemetry);
    return telemetry;
  }

  private readonly metrics: TelemetryMetrics | undefined;

  private constructor(private readonly system: ClusteredActorSystem, options: ResolvedTelemetryOptions) {
    const { api } = options;
    this.metrics = options.metrics ? new TelemetryMetrics(system, api.metrics.getMeter(INSTRUMENTATION_SCOPE)) : undefined;
    const tracer = options.traces ? api.trace.getTracer(INSTRUMENTATION_SCOPE) : undefined;
    if (this.metrics === undefined && tracer === undefined) return;
    const tracing = new AskTracing(api, system.nodeId, tracer, this.metrics);
    observeAsks(system, tracing);
    RemoteMessaging.of(system).traceWith(tracing);
  }

  /** Shutdown phase 'close' (SystemExtension): stops observing. */
  afterShutdown(): Promise<void> {
    observeAsks(this.system, undefined);
    RemoteMessaging.of(this.system).traceWith(undefined);
    this.metrics?.close();
    return Promise.resolve();
  }
}
