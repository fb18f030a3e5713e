/**
 * Erasure of deleted people from ingest's observations (issue 10 item 7). Ingest owns events and
 * sightings, so the people service asks it (IngestQueryService.ErasePersonObservations); the request
 * is written to `person_erasures` before the person is deleted and retried, with backoff, until
 * ingest confirms it: an ingest that is down (or restarting) when a person is deleted erases them
 * once it is back. Then the erasure is audited, in the name of whoever deleted the person, and its
 * row removed. Every people replica retries the rows that are due; the RPC is idempotent.
 */
import type { Actor } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import type { IngestQueryServiceClient } from "@facerec/proto/facerec/internal/ingest/v1/ingest_query.ts";
import { type Backoff, backoffDelay } from "@facerec/shared/backoff.ts";
import { callUnary } from "@facerec/shared/grpc/clients.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import { type Repeating, repeat } from "@facerec/shared/repeat.ts";
import type { AuditTrail } from "./audit-trail.ts";
import type { PeopleModels, PersonErasureDoc } from "./models.ts";

/** Ingest waits for matching to settle, then rewrites every hour that names the person. */
const ERASE_TIMEOUT_MS = 60_000;
/** The deleting request waits this long for it; past that, the retries finish it. */
const FIRST_ATTEMPT_TIMEOUT_MS = 10_000;
/** Retries of a failed erasure: 1 s, doubled per failed attempt up to a minute. */
const RETRY: Backoff = { initialMs: 1000, maxMs: 60_000, jitter: "none" };
/** How often each replica looks for erasures that are due. */
const POLL_MS = 1000;
/** Erasures attempted per look, one after the other. */
const PER_POLL = 10;

export class PersonErasures {
  readonly #rows: PeopleModels["personErasures"];
  readonly #people: PeopleModels["people"];
  readonly #ingest: IngestQueryServiceClient;
  readonly #audit: AuditTrail;
  readonly #log: Logger;
  #retrying: Repeating | undefined;

  constructor(opts: {
    models: PeopleModels;
    ingest: IngestQueryServiceClient;
    audit: AuditTrail;
    log: Logger;
  }) {
    this.#rows = opts.models.personErasures;
    this.#people = opts.models.people;
    this.#ingest = opts.ingest;
    this.#audit = opts.audit;
    this.#log = opts.log;
  }

  /** The first attempt, made by the request that deleted the person: shorter, the retries go on. */
  attemptNow(personId: string): Promise<boolean> {
    return this.attempt(personId, FIRST_ATTEMPT_TIMEOUT_MS);
  }

  /** Records that `personId`'s observations must be erased; durable before the person is deleted. */
  async request(actor: Actor, personId: string, purge: boolean): Promise<void> {
    const now = new Date();
    await this.#rows.replaceOne(
      { _id: personId },
      {
        _id: personId,
        tenantId: actor.tenantId,
        purge,
        actor,
        requestedAt: now,
        attempts: 0,
        // The deleting call attempts it at once; retried from here if that fails or never answers.
        nextAttemptAt: new Date(now.getTime() + ERASE_TIMEOUT_MS),
        lastError: "",
        erasedAt: null,
        erasedEvents: 0,
        erasedSightings: 0,
      },
      { upsert: true },
    );
  }

  /** Attempts the erasure now; true when ingest confirmed it (else it stays due for a retry). */
  async attempt(personId: string, timeoutMs = ERASE_TIMEOUT_MS): Promise<boolean> {
    const row = await this.#rows.findOne({ _id: personId }).lean<PersonErasureDoc>();
    if (!row) return true;
    if (await this.#people.exists({ _id: personId, tenantId: row.tenantId })) {
      // The deletion that recorded it failed half-way (the person is still there): nothing to erase;
      // a DELETE that is tried again records it again.
      await this.#rows.deleteOne({ _id: personId });
      return false;
    }
    // Leased while it runs: other replicas' pollers leave it alone.
    await this.#rows.updateOne(
      { _id: personId },
      { $set: { nextAttemptAt: new Date(Date.now() + ERASE_TIMEOUT_MS) } },
    );
    try {
      if (!row.erasedAt) {
        const erased = await callUnary(
          this.#ingest.erasePersonObservations.bind(this.#ingest),
          { actor: row.actor, personId, purge: row.purge },
          timeoutMs,
        );
        row.erasedEvents = erased.events;
        row.erasedSightings = erased.sightings;
        await this.#rows.updateOne(
          { _id: personId },
          { $set: { erasedAt: new Date(), erasedEvents: erased.events, erasedSightings: erased.sightings } },
        );
      }
      await this.#audit.record(row.actor, "person.observations_erased", { type: "person", id: personId }, [
        {
          field: row.purge ? "deletedEvents" : "unmatchedEvents",
          oldValue: String(row.erasedEvents),
          newValue: "0",
        },
        {
          field: row.purge ? "deletedSightings" : "unmatchedSightings",
          oldValue: String(row.erasedSightings),
          newValue: "0",
        },
      ]);
      await this.#rows.deleteOne({ _id: personId });
      return true;
    } catch (err) {
      const attempts = (row.attempts ?? 0) + 1;
      const delay = backoffDelay(attempts - 1, RETRY);
      this.#log.warn(
        { personId, attempts, retryInMs: delay, err: (err as Error).message },
        "erasing a deleted person's observations failed; retrying",
      );
      await this.#rows
        .updateOne(
          { _id: personId },
          {
            $set: {
              attempts,
              nextAttemptAt: new Date(Date.now() + delay),
              lastError: (err as Error).message.slice(0, 500),
            },
          },
        )
        .catch(() => {});
      return false;
    }
  }

  /** Retries the due erasures every POLL_MS. */
  start(): void {
    this.#retrying = repeat(
      async () => {
        const due = await this.#rows
          .find({ nextAttemptAt: { $lte: new Date() } }, { _id: 1 })
          .sort({ nextAttemptAt: 1 })
          .limit(PER_POLL)
          .lean<{ _id: string }[]>();
        for (const { _id } of due) await this.attempt(_id);
      },
      {
        everyMs: POLL_MS,
        onError: (err) => this.#log.warn({ err }, "looking for pending erasures failed; retrying"),
      },
    );
  }

  /** Waits for a retry in flight. */
  async stop(): Promise<void> {
    await this.#retrying?.stop();
  }
}
