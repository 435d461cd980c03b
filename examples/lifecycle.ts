// Seed 000 "The Actor Lifecycle" and seed 002 "on_error": hooks around a (pretend) database connection.
import type { Context } from 'casty';
import { Actor, ActorSystem, message, Request } from 'casty';

class TemporaryError extends Error {}
class FakeConnection {
  open = true;
  async execute(sql: string): Promise<string> {
    if (sql.includes('flaky')) throw new TemporaryError(`timeout running ${sql}`);
    return `rows for ${sql}`;
  }
  async close(): Promise<void> { this.open = false; }
}

@message() class Query extends Request<string> { constructor(readonly sql: string) { super(); } }

class DatabaseActor extends Actor<Query> {
  connection: FakeConnection | undefined;

  async onStart(): Promise<void> {
    this.connection = new FakeConnection();
    console.log('Connection established');
  }

  async onStop(): Promise<void> {
    await this.connection?.close();
    console.log('Connection closed');
  }

  onError(error: unknown): boolean {
    if (error instanceof TemporaryError) {
      console.log(`Temporary error, continuing: ${error.message}`);
      return true;                      // keep this instance (and its connection)
    }
    console.log(`Fatal error: ${String(error)}`);
    return false;                       // let the supervisor decide (restart by default)
  }

  async receive(msg: Query, ctx: Context<Query>): Promise<void> {
    ctx.reply(await this.connection!.execute(msg.sql));
  }
}

await using system = ActorSystem.create();
const db = await system.spawn(DatabaseActor, { name: 'db' });
console.log(await db.ask(new Query('select 1')));
await db.ask(new Query('select flaky')).catch((e: Error) => console.log(`ask rejected: ${e.message}`));
console.log(await db.ask(new Query('select 2')));
