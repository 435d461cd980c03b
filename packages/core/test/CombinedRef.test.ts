import { Actor, CombinedRefError, Context, handle, message, Request } from '@casty/core';
import { quietSystem } from './fixtures/recording';

@message('cr.LogMessage') class LogMessage { constructor(readonly text: string) {} }
@message('cr.MetricEvent') class MetricEvent { constructor(readonly name: string, readonly value: number) {} }
@message('cr.Audit') class Audit extends LogMessage {}
@message('cr.Dump') class Dump extends Request<string[]> {}

const seen: string[] = [];
// seed 000 "Combining Actor References": receive-style actors declare what they handle
class Logger extends Actor<LogMessage> {
  static readonly handles = [LogMessage];
  override receive(msg: LogMessage) { seen.push(`LOG: ${msg.text}`); }
}
class MetricsCollector extends Actor<MetricEvent | Dump> {
  @handle(MetricEvent) metric(msg: MetricEvent) { seen.push(`METRIC: ${msg.name}=${msg.value}`); }
  @handle(Dump) dump(): string[] { return [...seen]; }
}
class Anything extends Actor<unknown> { override receive() {} }

test('a combined ref routes each message by class (subclasses included) to the actor that handles it', async () => {
  await using system = quietSystem();
  const logger = await system.spawn(Logger);
  const metrics = await system.spawn(MetricsCollector);
  const combined = logger.or(metrics);
  await combined.send(new LogMessage('Hello'));
  await combined.send(new MetricEvent('cpu', 0.75));
  await combined.send(new Audit('subclass goes to the logger'));
  expect(await combined.ask(new Dump())).toEqual(['LOG: Hello', 'METRIC: cpu=0.75', 'LOG: subclass goes to the logger']);
});

test('combining an actor whose handled classes are unknown is a clear error at the call', async () => {
  await using system = quietSystem();
  const logger = await system.spawn(Logger);
  const opaque = await system.spawn(Anything, { name: 'opaque' });
  expect(() => logger.or(opaque)).toThrow(CombinedRefError);
  expect(() => logger.or(opaque)).toThrow(/Cannot combine \/user\/opaque: the classes it handles are unknown/);
});

test('two actors handling the same class cannot be combined; an unroutable message rejects', async () => {
  await using system = quietSystem();
  const a = await system.spawn(Logger, { name: 'a' });
  const b = await system.spawn(Logger, { name: 'b' });
  expect(() => a.or(b)).toThrow(/both handle LogMessage/);
  const combined = a.or(await system.spawn(MetricsCollector));
  await expect(combined.send(42 as never)).rejects.toThrow(/handles number|No actor behind/);
});
