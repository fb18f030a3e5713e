/** Group commit against the real embedded database (FerretDB), counting the insert commands it gets. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { mongo } from "mongoose";
import { GroupedInserts } from "./grouped-inserts.ts";
import { startTestDatabase, type TestDatabase } from "./test-database.ts";

interface Doc {
  _id: string;
  n: number;
}

describe("GroupedInserts", () => {
  let db: TestDatabase;
  let client: mongo.MongoClient;
  let inserts = 0;
  let insertsUnderWay = 0;
  let mostUnderWay = 0;
  before(async () => {
    db = await startTestDatabase();
    client = new mongo.MongoClient(db.url, { monitorCommands: true });
    client.on("commandStarted", (e) => {
      if (e.commandName !== "insert") return;
      inserts++;
      mostUnderWay = Math.max(mostUnderWay, ++insertsUnderWay);
    });
    const ended = (e: { commandName: string }) => {
      if (e.commandName === "insert") insertsUnderWay--;
    };
    client.on("commandSucceeded", ended);
    client.on("commandFailed", ended);
    await client.connect();
  });
  after(async () => {
    await client.close();
    await db.stop();
  });

  const docs = (prefix: string, count: number): Doc[] =>
    Array.from({ length: count }, (_, n) => ({ _id: `${prefix}-${n}`, n }));

  it("puts concurrent inserts into one collection together, at most maxDocs per write, and stores them all", async () => {
    const collection = client.db(db.dbName).collection<Doc>("grouped");
    await collection.insertOne({ _id: "warm-up", n: 0 });
    const grouped = new GroupedInserts<Doc>({ maxDocs: 30, writeConcern: { w: "majority", j: true } });
    inserts = 0;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => grouped.insert(collection, docs(`batch${i}`, 10))),
    );
    assert.deepEqual(
      results.map((r) => r.size),
      Array(10).fill(0),
    );
    assert.equal(await collection.countDocuments({ _id: { $ne: "warm-up" } }), 100);
    // The first write goes alone; the nine that queued behind it go three by three.
    assert.equal(inserts, 4);
  });

  it("has up to maxWritesPerCollection writes under way at once, each taking what waits when it starts", async () => {
    const collection = client.db(db.dbName).collection<Doc>("overlapping");
    await collection.insertOne({ _id: "warm-up", n: 0 });
    const grouped = new GroupedInserts<Doc>({
      maxDocs: 30,
      maxWritesPerCollection: 3,
      writeConcern: { w: "majority", j: true },
    });
    [inserts, mostUnderWay] = [0, 0];
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => grouped.insert(collection, docs(`batch${i}`, 10))),
    );
    assert.equal(await collection.countDocuments({ _id: { $ne: "warm-up" } }), 120);
    // Three writes start alone; the nine that queued behind them go three by three.
    assert.equal(inserts, 6);
    assert.equal(mostUnderWay, 3);
  });

  it("tells each caller which of its documents were stored before, including by another caller of the same write", async () => {
    const collection = client.db(db.dbName).collection<Doc>("duplicates");
    await collection.insertMany(docs("old", 2));
    const grouped = new GroupedInserts<Doc>({ maxDocs: 50, writeConcern: { w: "majority", j: true } });
    const [first, second, third] = await Promise.all([
      grouped.insert(collection, docs("new", 1)),
      grouped.insert(collection, [...docs("old", 2), { _id: "fresh", n: 9 }]),
      grouped.insert(collection, [{ _id: "fresh", n: 9 }, ...docs("new", 1)]),
    ]);
    assert.deepEqual([...first!], []);
    assert.deepEqual([...second!].sort(), [0, 1]);
    // "fresh" came in the second caller's part of the same write, and "new-0" in the first's write.
    assert.deepEqual([...third!].sort(), [0, 1]);
    assert.equal(await collection.countDocuments(), 4);
  });

  it("fails every caller of a write that fails for another reason than duplicates, and those queued behind it, then goes on", async () => {
    const collection = client.db(db.dbName).collection<Doc>("failures");
    const grouped = new GroupedInserts<Doc>({ maxDocs: 50, writeConcern: { w: "majority", j: true } });
    // A field name the database refuses (FerretDB, like MongoDB before 5.0, rejects `$` field names).
    const refused = { _id: "refused", n: 1, $bad: 1 } as unknown as Doc;
    const blocker = grouped.insert(collection, docs("first", 1));
    const outcomes = await Promise.allSettled([
      grouped.insert(collection, [refused]),
      grouped.insert(collection, docs("beside", 1)),
      // Past maxDocs, so queued for the write after theirs: failed with them, not written.
      grouped.insert(collection, docs("queued", 50)),
    ]);
    await blocker;
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ["rejected", "rejected", "rejected"],
    );
    assert.equal(await collection.countDocuments({ _id: /^queued/ }), 0);
    assert.equal((await grouped.insert(collection, docs("after", 1))).size, 0);
    assert.ok(await collection.findOne({ _id: "after-0" }));
  });
});
