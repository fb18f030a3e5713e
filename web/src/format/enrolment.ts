/**
 * What the enrolment dialog makes of the faces the browser found, before anything is uploaded.
 * The server decides in the end (its own detector and embedder); this only spares the admin an
 * upload that cannot succeed, and asks which face when there are several.
 */
import type { BoundingBox } from "../api/types.ts";

/** The server refuses faces smaller than this (`face_too_small`), in photo pixels. */
export const MIN_FACE_PIXELS = 60;

export type EnrolmentCheck =
  | { kind: "no_face" }
  | { kind: "too_small"; largest: number }
  | { kind: "one"; index: number }
  | { kind: "pick"; candidates: number[] };

// As the server measures a face: its longer side.
const sizeOf = (box: BoundingBox) => Math.max(box.width, box.height);

/** `boxes` as found (any order); indexes in the answer refer to that list. */
export function checkFaces(boxes: readonly BoundingBox[]): EnrolmentCheck {
  if (boxes.length === 0) return { kind: "no_face" };
  const large = boxes.flatMap((box, index) => (sizeOf(box) >= MIN_FACE_PIXELS ? [index] : []));
  if (large.length === 0) return { kind: "too_small", largest: Math.max(...boxes.map(sizeOf)) };
  if (large.length === 1) return { kind: "one", index: large[0]! };
  return { kind: "pick", candidates: large };
}

export function checkMessage(check: EnrolmentCheck): string {
  switch (check.kind) {
    case "no_face":
      return "No face was found in this photo. Choose one where the face is clearly visible, facing the camera.";
    case "too_small":
      return `The face is too small (${Math.round(check.largest)} px; at least ${MIN_FACE_PIXELS} px is needed). Choose a closer or larger photo.`;
    case "one":
      return "One face found.";
    case "pick":
      return `${check.candidates.length} faces found: pick the one to enrol.`;
  }
}

/** A box as a CSS position over the photo, in percent, so it scales with the shown image. */
export function boxStyle(box: BoundingBox, photo: { width: number; height: number }): Record<string, string> {
  const pct = (v: number, of: number) => `${((v / of) * 100).toFixed(3)}%`;
  return {
    left: pct(box.x, photo.width),
    top: pct(box.y, photo.height),
    width: pct(box.width, photo.width),
    height: pct(box.height, photo.height),
  };
}
