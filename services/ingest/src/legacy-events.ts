/**
 * Moves the events of the layout before hourly partitions (one `face_events` collection in the
 * service's database) into the partitions, once, in the background at start-up, so an upgraded site
 * keeps its history listable. Each event takes the id today's events have (derived from the same
 * tenant, batch and position, plus its hour), is left unmatched (it predates the gallery) and raises
 * no sighting. A move cut short is run again at the next start: an event stored already is skipped
 * and the listing drops repeats; the old collection is dropped only once every event is moved.
 */
import type { Logger } from "@facerec/shared/logger.ts";
import type { mongo } from "mongoose";
import { type EventStore, eventId } from "./event-store.ts";
import type { FaceEventDoc } from "./models.ts";

export const LEGACY_EVENTS = "face_events";
/** Events stored per write: FerretDB must never get a large bulk write. */
const CHUNK = 25;

/** Returns how many events were moved (0 when there was no old collection). */
export async function moveLegacyEvents(db: mongo.Db, store: EventStore, log: Logger): Promise<number> {
  const found = await db.listCollections({ name: LEGACY_EVENTS }, { nameOnly: true }).toArray();
  if (found.length === 0) return 0;
  log.info("moving events of the single-collection layout into hourly partitions");
  let moved = 0;
  let chunk: FaceEventDoc[] = [];
  const storeChunk = async () => {
    for (const [tenantId, events] of Map.groupBy(chunk, (e) => e.tenantId))
      await store.insertDocuments(tenantId, events);
    moved += chunk.length;
    chunk = [];
  };
  for await (const old of db.collection<FaceEventDoc>(LEGACY_EVENTS).find({})) {
    chunk.push({
      ...old,
      _id: eventId(old.tenantId, old.batchId, old.batchIndex, old.capturedAt),
      personId: null,
      similarity: null,
      faceId: null,
    });
    if (chunk.length === CHUNK) await storeChunk();
  }
  await storeChunk();
  await db.collection(LEGACY_EVENTS).drop();
  log.info({ moved }, "moved the events of the single-collection layout");
  return moved;
}
