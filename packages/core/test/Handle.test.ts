import type { ActorRef, Context, ActorSystem } from '@casty/core';
import { Actor, handle, message, Request, UnhandledMessage } from '@casty/core';
import { quietSystem, record } from './fixtures/recording';

@message('h.Add') class Add extends Request<number> { constructor(readonly a: number, readonly b: number) { super(); } }
@message('h.Multiply') class Multiply extends Request<number> { constructor(readonly a: number, readonly b: number) { super(); } }
@message('h.Note') class Note { constructor(readonly text: string) {} }
@message('h.Other') class Other {}

class Calculator extends Actor<Add | Multiply | Note> {
  notes: string[] = [];
  @handle(Add) add(m: Add): number { return m.a + m.b; }
  @handle(Multiply) async mul(m: Multiply): Promise<number> { await null; return m.a * m.b; }
  @handle(Note) note(m: Note, ctx: Context<Add | Multiply | Note>): void { this.notes.push(`${ctx.selfRef.path}:${m.text}`); }
}

test('@handle methods answer asks with their return value (sync and async)', async () => {
  await using system = quietSystem();
  const calc = await system.spawn(Calculator);
  const sum: number = await calc.ask(new Add(2, 3));
  const product: number = await calc.ask(new Multiply(4, 5));
  expect([sum, product]).toEqual([5, 20]);
  await calc.send(new Note('hi'));
  // a Note is no Request, so only an untyped ref can ask it; the handler's return value is the reply
  await expect((calc as ActorRef<unknown>).ask(new Note('asked'))).resolves.toBeUndefined();
});

test('a message with no handler is published as UnhandledMessage', async () => {
  await using system = quietSystem();
  const unhandled = record(system, UnhandledMessage);
  const calc = await system.spawn(Calculator, { name: 'calc' });
  await (calc as unknown as ActorRef<Other>).send(new Other());
  await calc.ask(new Add(1, 1));
  expect(unhandled.map((u) => [u.recipient, u.message instanceof Other])).toEqual([['/user/calc', true]]);
});

// Compile-time checks: `npm run typecheck` fails if any @ts-expect-error line stops being an error.
export async function typeChecks(system: ActorSystem): Promise<void> {
  class Typed extends Actor<Add> {
    // @ts-expect-error a handler for a Request<number> must return a number
    @handle(Add) wrong(_m: Add): string { return 'nope'; }
  }
  class WithArgs extends Actor<Add> { constructor(readonly id: string, readonly n: number) { super(); } }
  const calc = await system.spawn(Calculator);
  // @ts-expect-error a Calculator does not accept strings
  await calc.send('invalid');
  // @ts-expect-error constructor args are required and type-checked
  await system.spawn(WithArgs);
  // @ts-expect-error wrong argument types
  await system.spawn(WithArgs, { args: [1, 'x'] });
  await system.spawn(WithArgs, { args: ['ok', 1] });
  const n: number = await calc.ask(new Add(1, 2));
  // @ts-expect-error the reply of Add is a number
  const s: string = await calc.ask(new Add(1, 2));
  void Typed; void n; void s;
}
