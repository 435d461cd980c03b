// Seed 000 "Combining Actor References": `logger.or(metrics)` routes each message by its class.
import type { Context } from 'casty';
import { Actor, ActorSystem, message } from 'casty';

@message() class LogMessage { constructor(readonly text: string) {} }
@message() class MetricEvent { constructor(readonly name: string, readonly value: number) {} }

class Logger extends Actor<LogMessage> {
  static readonly handles = [LogMessage];     // what a receive-style actor handles, for routing
  async receive(msg: LogMessage, _ctx: Context<LogMessage>): Promise<void> { console.log(`LOG: ${msg.text}`); }
}

class MetricsCollector extends Actor<MetricEvent> {
  static readonly handles = [MetricEvent];
  async receive(msg: MetricEvent, _ctx: Context<MetricEvent>): Promise<void> { console.log(`METRIC: ${msg.name}=${msg.value}`); }
}

await using system = ActorSystem.create();
const logger = await system.spawn(Logger);
const metrics = await system.spawn(MetricsCollector);
const combined = logger.or(metrics);             // ActorRef<LogMessage | MetricEvent>
await combined.send(new LogMessage('Hello'));      // -> Logger
await combined.send(new MetricEvent('cpu', 0.75)); // -> MetricsCollector
