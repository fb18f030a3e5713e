/** Maps the PeopleService contract onto the domain objects. */
import type { Actor } from "@facerec/proto/facerec/internal/audit/v1/audit.ts";
import {
  type PeopleServiceServer,
  PeopleServiceService,
} from "@facerec/proto/facerec/internal/people/v1/people.ts";
import { invalidArgument } from "@facerec/shared/errors.ts";
import { unary } from "@facerec/shared/grpc/handlers.ts";
import type { ServiceBinding } from "@facerec/shared/grpc/server.ts";
import type { Logger } from "@facerec/shared/logger.ts";
import type { Faces } from "./faces.ts";
import type { watchGallery } from "./gallery-watch.ts";
import type { People } from "./people.ts";
import { PhotoRejected } from "./photo.ts";
import type { RecognitionSettings } from "./recognition-settings.ts";

/** The caller of every RPC: the gateway fills it from the verified token. */
function requireTenant(actor: Actor | undefined): Actor {
  if (!actor?.tenantId || !actor.actorId)
    throw invalidArgument("missing_actor", "actor with tenant_id and actor_id is required");
  return actor;
}

/** A photo that cannot be used is an answer (`rejection`), not an error. */
async function orRejection<T>(run: () => Promise<T>) {
  try {
    return { value: await run(), rejection: undefined };
  } catch (err) {
    if (!(err instanceof PhotoRejected)) throw err;
    return { value: undefined, rejection: { code: err.code, message: err.message, faces: err.faces } };
  }
}

export function peopleBindings(opts: {
  people: People;
  faces: Faces;
  settings: RecognitionSettings;
  galleryWatch: ReturnType<typeof watchGallery>;
  log: Logger;
}): ServiceBinding[] {
  const { people, faces, settings, galleryWatch, log } = opts;
  const service: PeopleServiceServer = {
    createPerson: unary(log, "CreatePerson", async (req) => ({
      person: await people.create(requireTenant(req.actor), req),
    })),
    listPeople: unary(log, "ListPeople", (req) => people.list(requireTenant(req.actor), req)),
    getPerson: unary(log, "GetPerson", async (req) => ({
      person: await people.get(requireTenant(req.actor), req.id),
    })),
    updatePerson: unary(log, "UpdatePerson", async (req) => ({
      person: await people.update(requireTenant(req.actor), req.id, {
        displayName: req.displayName,
        externalId: req.externalId,
        notes: req.notes,
        labels: req.replaceLabels ? req.labels : undefined,
        watchlist: req.watchlist,
      }),
    })),
    deletePerson: unary(log, "DeletePerson", (req) =>
      people.remove(requireTenant(req.actor), req.id, req.purgeSightings),
    ),
    enrollFace: unary(log, "EnrollFace", async (req) => {
      const actor = requireTenant(req.actor);
      const { value, rejection } = await orRejection(() =>
        faces.enrol(actor, req.personId, req.image, req.selection),
      );
      return { face: value, rejection };
    }),
    enrollObservedFaces: unary(log, "EnrollObservedFaces", async (req) => {
      const actor = requireTenant(req.actor);
      const { value, rejection } = await orRejection(() =>
        faces.enrolObserved(actor, req.personId, { eventId: req.eventId, track: req.track }),
      );
      return { faces: value ?? [], rejection };
    }),
    listFaces: unary(log, "ListFaces", async (req) => ({
      faces: await faces.list(requireTenant(req.actor), req.personId),
    })),
    getFaceThumbnail: unary(log, "GetFaceThumbnail", async (req) => ({
      jpeg: await faces.thumbnail(requireTenant(req.actor), req.personId, req.faceId),
    })),
    deleteFace: unary(log, "DeleteFace", async (req) => {
      await faces.remove(requireTenant(req.actor), req.personId, req.faceId);
      return {};
    }),
    searchFaces: unary(log, "SearchFaces", async (req) => {
      const actor = requireTenant(req.actor);
      if (req.maxResults > 100) throw invalidArgument("invalid_max_results", "maxResults must be 1 to 100");
      if (req.maxEvents > 100) throw invalidArgument("invalid_max_results", "maxEvents must be 0 to 100");
      if (req.eventsWithinHours > 24)
        throw invalidArgument("invalid_search_window", "eventsWithinHours must be 1 to 24");
      const opts = {
        maxResults: req.maxResults || 10,
        minSimilarity: req.minSimilarity,
        maxEvents: req.maxEvents,
        eventsWithinHours: req.eventsWithinHours || 1,
      };
      const { value, rejection } = await orRejection(() =>
        req.eventId
          ? faces.searchByEvent(actor, req.eventId, opts)
          : faces.search(actor, req.image, { ...opts, selection: req.selection }),
      );
      return { result: value, rejection };
    }),
    getRecognitionSettings: unary(log, "GetRecognitionSettings", async (req) => ({
      settings: await settings.get(requireTenant(req.actor)),
    })),
    updateRecognitionSettings: unary(log, "UpdateRecognitionSettings", async (req) => ({
      settings: await settings.replace(requireTenant(req.actor), req.thresholds),
    })),
    watchGallery: galleryWatch.handler,
  };
  return [
    {
      name: "facerec.internal.people.v1.PeopleService",
      definition: PeopleServiceService,
      implementation: service,
    },
  ];
}
