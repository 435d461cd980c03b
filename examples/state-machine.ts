// Seed 000 "Behavior Switching": become/unbecome as a stack of handlers.
import type { Context } from 'casty';
import { Actor, ActorSystem, message } from 'casty';

@message() class Activate {}
@message() class Deactivate {}
@message() class Process { constructor(readonly data: string) {} }
type Msg = Activate | Deactivate | Process;

class StateMachine extends Actor<Msg> {
  processed: string[] = [];

  // default: inactive - only responds to Activate
  async receive(msg: Msg, ctx: Context<Msg>): Promise<void> {
    if (msg instanceof Activate) { console.log('Activating...'); ctx.become(this.active); }
    else if (msg instanceof Process) console.log(`Ignored (inactive): ${msg.data}`);
  }

  async active(msg: Msg, ctx: Context<Msg>): Promise<void> {
    if (msg instanceof Deactivate) { console.log('Deactivating...'); ctx.unbecome(); }
    else if (msg instanceof Process) { console.log(`Processing: ${msg.data}`); this.processed.push(msg.data); }
  }
}

await using system = ActorSystem.create();
const machine = await system.spawn(StateMachine);
await machine.send(new Process('ignored'));   // Ignored (inactive)
await machine.send(new Activate());           // switch to active
await machine.send(new Process('hello'));     // Processing: hello
await machine.send(new Process('world'));     // Processing: world
await machine.send(new Deactivate());         // back to inactive
await machine.send(new Process('ignored'));   // Ignored (inactive) again
