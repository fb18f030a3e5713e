/** Resources as the REST API returns them (complete, per the generated types), for component and store tests. */
import type { FaceEvent } from "../api/types.ts";

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
