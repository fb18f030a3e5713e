/**
 * The tenant's sightings: pages (`GET /v1/sightings`) and the live feed (`GET /v1/sightings/stream`,
 * Server-Sent Events). Ingest owns sightings; the person's name and watchlist flag come from the
 * people service, looked up per page or frame (one call per distinct person, cached briefly).
 */
import { PassThrough } from "node:stream";
import type { Actor } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import {
  type Sighting,
  SightingChangeKind,
  type WatchSightingsResponse,
} from "@facerec/proto/facerec/internal/ingest/v1/ingest_query.ts";
import type { PeopleServiceClient, Person } from "@facerec/proto/facerec/internal/people/v1/people.ts";
import { fromGrpcError } from "@facerec/shared/errors.ts";
import { callUnary } from "@facerec/shared/grpc/clients.ts";
import { status } from "@grpc/grpc-js";
import type { z } from "zod";
import type { GatewayDeps } from "../deps.ts";
import { type AnyRoute, defineRoute } from "../route.ts";
import {
  sightingListResponse,
  type sightingSchema,
  sightingStreamBody,
  sightingsQuery,
} from "../sighting-schemas.ts";

const READERS = ["viewer", "admin"] as const;
const TAG = "sightings";
/** SSE comment that keeps proxies and the client from timing an idle feed out. */
const KEEP_ALIVE_MS = 15_000;
/** A client that leaves this much of the feed unread is disconnected (it reconnects and lists). */
const MAX_UNREAD_BYTES = 1 << 20;
/** How long a person's name and watchlist flag are reused. */
const PERSON_TTL_MS = 10_000;
const PERSON_CACHE_MAX = 10_000;
/** setTimeout's limit. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface PersonInfo {
  personName: string | null;
  watchlist: boolean;
}

const UNKNOWN: PersonInfo = { personName: null, watchlist: false };

/** People's names and watchlist flags by (tenant, id), each looked up at most once per PERSON_TTL_MS. */
class PersonNames {
  readonly #people: PeopleServiceClient;
  readonly #cache = new Map<string, { until: number; info: Promise<PersonInfo> }>();

  constructor(people: PeopleServiceClient) {
    this.#people = people;
  }

  /** A deleted person reads as unknown; a people service that fails leaves names null (not cached). */
  lookup(actor: Actor, personId: string): Promise<PersonInfo> {
    const key = `${actor.tenantId}\n${personId}`;
    const now = Date.now();
    const cached = this.#cache.get(key);
    if (cached && cached.until > now) return cached.info;
    if (this.#cache.size >= PERSON_CACHE_MAX) this.#cache.clear();
    const info = callUnary(this.#people.getPerson.bind(this.#people), { actor, id: personId }).then(
      ({ person }) => ({ personName: person?.displayName ?? null, watchlist: person?.watchlist ?? false }),
      (err: unknown) => {
        if (fromGrpcError(err).grpcStatus !== status.NOT_FOUND) this.#cache.delete(key);
        return UNKNOWN;
      },
    );
    this.#cache.set(key, { until: now + PERSON_TTL_MS, info });
    return info;
  }

  async present(actor: Actor, sightings: Sighting[]) {
    const ids = [...new Set(sightings.map((s) => s.personId).filter(Boolean))];
    const infos = new Map(
      await Promise.all(ids.map(async (id) => [id, await this.lookup(actor, id)] as const)),
    );
    return sightings.map((s) =>
      presentSighting(s, s.personId ? (infos.get(s.personId) ?? UNKNOWN) : UNKNOWN),
    );
  }
}

export function presentSighting(s: Sighting, person: PersonInfo): z.infer<typeof sightingSchema> {
  return {
    id: s.id,
    personId: s.personId || null,
    ...person,
    trackId: s.trackId,
    workerId: s.workerId,
    siteId: s.siteId,
    cameraId: s.cameraId,
    model: s.model,
    firstSeenAt: s.firstSeenAt!.toISOString(),
    lastSeenAt: s.lastSeenAt!.toISOString(),
    observations: s.observations,
    bestSimilarity: s.bestSimilarity ?? null,
    bestEventId: s.bestEventId,
    bestEventHasThumbnail: s.bestEventHasThumbnail,
  };
}

/**
 * A function finding people's most recent sightings in one ingest call (for GET /v1/people and
 * GET /v1/people/{id}): by person id, absent when never seen lately; undefined when ingest cannot
 * answer, so the people can still be shown, without when they were last seen.
 */
export function lastSightingsFinder({ ingest }: Pick<GatewayDeps, "ingest">) {
  return async (actor: Actor, listed: Person[]) => {
    if (listed.length === 0) return new Map<string, ReturnType<typeof presentSighting>>();
    try {
      const { sightings } = await callUnary(ingest.lastSightings.bind(ingest), {
        actor,
        personIds: listed.map((p) => p.id),
      });
      const byId = new Map(listed.map((p) => [p.id, p]));
      return new Map(
        sightings.map((s) => {
          const person = byId.get(s.personId)!;
          return [
            s.personId,
            presentSighting(s, { personName: person.displayName, watchlist: person.watchlist }),
          ];
        }),
      );
    } catch {
      return undefined;
    }
  };
}

export function sightingRoutes({ ingest, people, revocations }: GatewayDeps): AnyRoute[] {
  const names = new PersonNames(people);
  return [
    defineRoute({
      method: "get",
      path: "/v1/sightings",
      operationId: "listSightings",
      summary: "The tenant's sightings, most recently seen first, with optional filters",
      tag: TAG,
      access: READERS,
      query: sightingsQuery,
      responses: {
        200: {
          description:
            "A page of sightings. A page reads at most a day of sightings (or about 100 ms of reading): " +
            "with filters that match few it can hold fewer than pageSize, even none, with a " +
            "nextPageToken to go on; the list ends when nextPageToken is empty.",
          schema: sightingListResponse,
        },
      },
      handler: async (ctx, { query, caller }) => {
        const page = await callUnary(ingest.listSightings.bind(ingest), {
          actor: caller.actor,
          personId: query.personId ?? "",
          cameraId: query.cameraId ?? "",
          siteId: query.siteId ?? "",
          workerId: query.workerId ?? "",
          from: query.from ? new Date(query.from) : undefined,
          to: query.to ? new Date(query.to) : undefined,
          identified: query.identified,
          pageSize: query.pageSize ?? 0,
          pageToken: query.pageToken ?? "",
        });
        ctx.body = {
          sightings: await names.present(caller.actor, page.sightings),
          nextPageToken: page.nextPageToken,
        };
      },
    }),
    defineRoute({
      method: "get",
      path: "/v1/sightings/stream",
      operationId: "streamSightings",
      summary: "Live feed of the tenant's new and updated sightings (Server-Sent Events)",
      tag: TAG,
      access: READERS,
      responses: {
        200: {
          description: "The feed, until the client leaves or its token ends",
          schema: sightingStreamBody,
          contentType: "text/event-stream",
        },
      },
      handler: async (ctx, { caller }) => {
        const call = ingest.watchSightings({ actor: caller.actor });
        // Ingest answers with headers once it is watching: only then is this a 200.
        await new Promise<void>((resolve, reject) => {
          call.once("metadata", () => resolve());
          call.once("error", (err) => reject(fromGrpcError(err)));
        });
        const body = new PassThrough();
        let frames = Promise.resolve();
        const send = (text: string) => {
          if (body.writableEnded || body.destroyed) return;
          if (body.writableLength > MAX_UNREAD_BYTES) return body.end();
          body.write(text);
        };
        call.on("data", (change: WatchSightingsResponse) => {
          // In order, each after its person lookup.
          frames = frames.then(async () => {
            const [sighting] = await names.present(caller.actor, [change.sighting!]);
            const event =
              change.kind === SightingChangeKind.SIGHTING_CHANGE_KIND_STARTED
                ? "sighting.started"
                : "sighting.updated";
            send(
              `event: ${event}\nid: ${sighting!.id}.${sighting!.observations}\ndata: ${JSON.stringify(sighting)}\n\n`,
            );
          });
        });
        // Ingest restarting or the feed ended: the client reconnects (and may list what it missed).
        call.on("error", () => body.end());
        call.on("end", () => body.end());
        const keepAlive = setInterval(() => send(": keep-alive\n\n"), KEEP_ALIVE_MS);
        // A feed lives no longer than the token that opened it, and ends when its key is revoked.
        const untilExpiry = Math.min(Math.max(caller.claims.exp * 1000 - Date.now(), 0), MAX_TIMER_MS);
        const expiry = setTimeout(() => body.end(), untilExpiry);
        const onRevoked = (revocation: { keyId: string }) => {
          if (revocation.keyId === caller.claims.sub) body.end();
        };
        revocations.on("revoked", onRevoked);
        // However it ends (client gone, token over, ingest gone): release everything once.
        body.once("close", () => {
          clearInterval(keepAlive);
          clearTimeout(expiry);
          revocations.off("revoked", onRevoked);
          call.cancel();
        });
        ctx.req.socket.setTimeout(0);
        ctx.req.socket.setNoDelay(true);
        ctx.status = 200;
        ctx.type = "text/event-stream";
        ctx.set("Cache-Control", "no-cache, no-transform");
        // Proxies such as nginx would otherwise hold frames back.
        ctx.set("X-Accel-Buffering", "no");
        ctx.body = body;
        body.write(": connected\n\n");
      },
    }),
  ];
}
