import { PGlite } from '@electric-sql/pglite';
import { Client } from 'pg';
import { PGliteStream } from '../../src/database/pglite-stream';

/** The in-process pg connection to PGlite (the embedded database's transport), below the app. */
describe('PGliteStream', () => {
  let db: PGlite;
  const clients: Client[] = [];
  const connect = async () => {
    const client = new Client({
      host: 'pglite',
      user: 'postgres',
      database: 'postgres',
      stream: () => new PGliteStream(db),
    });
    clients.push(client);
    await client.connect();
    return client;
  };

  beforeAll(async () => {
    db = await PGlite.create();
    await db.exec('CREATE TABLE probe (id int PRIMARY KEY, note text)');
  }, 60_000);
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.end().catch(() => undefined);
    await db.exec('TRUNCATE probe');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('answers simple and parameterised queries, and pipelined ones in order', async () => {
    const c = await connect();
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await c.query('INSERT INTO probe VALUES ($1, $2), ($3, $4)', [1, 'a', 2, 'b']);
    const answers = await Promise.all(
      [1, 2, 3].map((id) => c.query<{ note: string }>('SELECT note FROM probe WHERE id = $1', [id])),
    );
    expect(answers.map((r) => r.rows[0]?.note ?? null)).toEqual(['a', 'b', null]);
  });

  it('reports an error of the extended protocol and goes on serving the session', async () => {
    const c = await connect();
    await c.query('INSERT INTO probe VALUES (1, $1)', ['first']);
    await expect(c.query('INSERT INTO probe VALUES (1, $1)', ['again'])).rejects.toMatchObject({ code: '23505' });
    await expect(c.query('SELECT nope FROM probe WHERE id = $1', [1])).rejects.toMatchObject({ code: '42703' });
    expect((await c.query('SELECT note FROM probe WHERE id = $1', [1])).rows).toEqual([{ note: 'first' }]);
  });

  it('rolls back what a connection leaves open when it goes away', async () => {
    const c = await connect();
    await c.query('BEGIN');
    await c.query('INSERT INTO probe VALUES (7, $1)', ['uncommitted']);
    expect(db.isInTransaction()).toBe(true);
    await c.end();
    for (let i = 0; i < 50 && db.isInTransaction(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(db.isInTransaction()).toBe(false);
    const next = await connect();
    expect((await next.query('SELECT count(*)::int AS n FROM probe')).rows).toEqual([{ n: 0 }]);
  });

  it('commits through the same path as a pool of one would', async () => {
    const c = await connect();
    await c.query('BEGIN');
    await c.query('INSERT INTO probe VALUES (8, $1)', ['kept']);
    await c.query('COMMIT');
    await c.end();
    expect((await db.query('SELECT note FROM probe WHERE id = 8')).rows).toEqual([{ note: 'kept' }]);
  });
});
