/** Resources as the REST API returns them (complete, per the generated types), for component and store tests. */
import type { FaceEvent, Person, PersonFace, Sighting } from "../api/types.ts";

export const faceEvent = (id: string, over: Partial<FaceEvent> = {}): FaceEvent => ({
  id,
  batchId: "b",
  workerId: "worker-001",
  siteId: "s-1",
  cameraId: "cam-1",
  keyId: "key-1",
  capturedAt: "2025-01-01T00:00:00Z",
  receivedAt: "2025-01-01T00:00:01Z",
  frameSeq: "1",
  bbox: { x: 1, y: 2, width: 30, height: 40 },
  landmarks: [],
  detScore: 0.9,
  quality: 0.8,
  model: "insightface/w600k_r50",
  embeddingDim: 512,
  trackId: "1",
  personId: null,
  similarity: null,
  faceId: null,
  thumbnailUrl: `/v1/events/${id}/thumbnail`,
  ...over,
});

export const person = (id: string, over: Partial<Person> = {}): Person => ({
  id,
  displayName: `Person ${id}`,
  externalId: null,
  notes: "",
  labels: [],
  watchlist: false,
  faceCount: 1,
  createdAt: "2025-01-01T00:00:00Z",
  updatedAt: "2025-01-01T00:00:00Z",
  createdBy: "admin@localhost",
  ...over,
});

export const sighting = (id: string, over: Partial<Sighting> = {}): Sighting => ({
  id,
  personId: null,
  personName: null,
  watchlist: false,
  trackId: 0,
  workerId: "worker-001",
  siteId: "site-hq",
  cameraId: "cam-lobby",
  model: "dlib/resnet-v1-128",
  firstSeenAt: "2025-03-10T11:58:00Z",
  lastSeenAt: "2025-03-10T11:59:00Z",
  observations: 3,
  bestSimilarity: null,
  bestEventId: `2025031011-${"A".repeat(22)}`,
  bestEventHasThumbnail: true,
  ...over,
});

export const personFace = (id: string, personId: string, over: Partial<PersonFace> = {}): PersonFace => ({
  id,
  personId,
  bbox: { x: 0, y: 0, width: 112, height: 112 },
  detScore: 0.98,
  detector: "worker:worker-001",
  embeddings: [{ model: "dlib/resnet-v1-128", embeddingDim: 128 }],
  cropSize: 150,
  thumbnailUrl: `/v1/people/${personId}/faces/${id}/thumbnail`,
  eventId: null,
  createdAt: "2025-01-01T00:00:00Z",
  createdBy: "admin@localhost",
  ...over,
});
