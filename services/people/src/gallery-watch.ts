/**
 * WatchGallery: this replica's gallery for a subscriber that matches faces in memory (ingest).
 * Mirrors KeysService.WatchRevocations: subscribe to the replica first, hold what arrives back,
 * send the snapshot (or, when resuming, the changes since the token), then the held-back changes,
 * then every change as it is applied here. A change sent twice is harmless to the subscriber.
 *
 * The resume token is a time: changes written before it were in what the subscriber received
 * (the replica re-reads SKEW_MS behind it, so changes other replicas wrote just before are not lost).
 */
import type {
  GalleryEntry,
  WatchGalleryRequest,
  WatchGalleryResponse,
} from "@facerec/proto/facerec/internal/people/v1/people.ts";
import { bytesOf } from "@facerec/shared/db/binary.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { DEFAULT_THRESHOLDS } from "@facerec/shared/recognition/thresholds.ts";
import type { ServerWritableStream } from "@grpc/grpc-js";
import { type GalleryEvent, type GalleryReplica, vectorBytes } from "./gallery-replica.ts";

/** Gallery entries per snapshot message: 512 × 512-d is 1 MiB, well under the message limit. */
const ENTRIES_PER_MESSAGE = 512;
const TOKEN = /^g1\.(\d{1,15})$/;

const tokenAt = (ms: number) => `g1.${ms}`;

function toMessages(events: GalleryEvent[]): Omit<WatchGalleryResponse, "resumeToken">[] {
  const message: Omit<WatchGalleryResponse, "resumeToken"> = {
    reset: false,
    added: [],
    removed: [],
    thresholds: [],
    snapshotComplete: true,
    defaultThresholds: {},
  };
  for (const event of events) {
    if (event.kind === "added")
      for (const e of event.face.embeddings ?? []) {
        const vector = Buffer.from(bytesOf(e.vector));
        message.added.push({
          tenantId: event.face.tenantId,
          faceId: event.face._id,
          personId: event.face.personId,
          model: e.model,
          embeddingDim: vector.length / 4,
          embedding: vector,
        });
      }
    else if (event.kind === "removed")
      message.removed.push({ tenantId: event.tenantId, faceId: event.faceId, personId: event.personId });
    else message.thresholds.push({ tenantId: event.tenantId, thresholds: event.thresholds });
  }
  return [message];
}

/** The WatchGallery handler, and `endAll` for shutdown (an open stream would hold the server's graceful close). */
export function watchGallery(replica: GalleryReplica, log: Logger) {
  const open = new Set<ServerWritableStream<WatchGalleryRequest, WatchGalleryResponse>>();
  const endAll = () => {
    for (const call of open) call.end();
  };
  const handler = async (call: ServerWritableStream<WatchGalleryRequest, WatchGalleryResponse>) => {
    open.add(call);
    call.once("close", () => open.delete(call));
    let heldBack: GalleryEvent[] | undefined = [];
    const over = new Promise((resolve) => call.once("close", resolve));
    const send = async (message: Omit<WatchGalleryResponse, "resumeToken">, at = Date.now()) => {
      if (call.destroyed || call.cancelled) return;
      if (!call.write({ ...message, resumeToken: tokenAt(at) }))
        await Promise.race([new Promise((resolve) => call.once("drain", resolve)), over]);
    };
    /** Live changes, one after the other, after everything held back. */
    let live = Promise.resolve();
    const unsubscribe = replica.subscribe((event) => {
      if (heldBack) heldBack.push(event);
      else for (const m of toMessages([event])) live = live.then(() => send(m));
    });
    call.on("cancelled", unsubscribe);
    call.on("close", unsubscribe);
    try {
      const startedAt = Date.now();
      const since = Number(TOKEN.exec(call.request.resumeToken)?.[1] ?? Number.NaN);
      const missed = Number.isFinite(since) ? await replica.changesSince(since) : undefined;
      if (missed) {
        for (const m of toMessages(missed)) await send(m, startedAt);
      } else {
        await sendSnapshot(replica, send, startedAt);
      }
      const held = toMessages(heldBack).filter(
        (m) => m.added.length + m.removed.length + m.thresholds.length,
      );
      heldBack = undefined;
      live = (async () => {
        for (const m of held) await send(m);
      })();
    } catch (err) {
      log.warn({ err }, "gallery snapshot failed");
      unsubscribe();
      call.destroy(err as Error);
    }
  };
  return { handler, endAll };
}

/** Copied at once (the gallery moves rows as faces come and go), then sent in chunks. */
async function sendSnapshot(
  replica: GalleryReplica,
  send: (message: Omit<WatchGalleryResponse, "resumeToken">, at: number) => Promise<void>,
  at: number,
): Promise<void> {
  const thresholds = [...replica.thresholds].map(([tenantId, t]) => ({ tenantId, thresholds: t }));
  const entries: GalleryEntry[] = [];
  for (const entry of replica.gallery.entries())
    entries.push({
      tenantId: entry.tenantId,
      faceId: entry.faceId,
      personId: entry.personId,
      model: entry.model,
      embeddingDim: entry.vector.length,
      embedding: Buffer.from(vectorBytes(entry.vector)),
    });
  for (let start = 0; start === 0 || start < entries.length; start += ENTRIES_PER_MESSAGE) {
    const first = start === 0;
    await send(
      {
        reset: first,
        added: entries.slice(start, start + ENTRIES_PER_MESSAGE),
        removed: [],
        thresholds: first ? thresholds : [],
        snapshotComplete: start + ENTRIES_PER_MESSAGE >= entries.length,
        defaultThresholds: first ? { ...DEFAULT_THRESHOLDS } : {},
      },
      at,
    );
  }
}
