// Non-maximum suppression over candidate faces, in the two flavours the detectors need.
import { type DetectedFace, iou } from "./detector.ts";

/** Keeps the best face of every overlapping group (YuNet, OpenCV's behaviour). */
export function hardNms(faces: readonly DetectedFace[], iouThreshold: number): DetectedFace[] {
  const sorted = [...faces].sort((a, b) => b.score - a.score);
  const kept: DetectedFace[] = [];
  for (const face of sorted) {
    if (kept.every((k) => iou(k.box, face.box) <= iouThreshold)) kept.push(face);
  }
  return kept;
}

/**
 * MediaPipe's weighted suppression (BlazeFace): every overlapping group becomes one face whose box
 * and landmarks are the score-weighted mean of the group, scored as its best member. Averaging the
 * many anchors that fire on one face steadies boxes and landmarks from frame to frame.
 */
export function weightedNms(faces: readonly DetectedFace[], iouThreshold: number): DetectedFace[] {
  let remaining = [...faces].sort((a, b) => b.score - a.score);
  const merged: DetectedFace[] = [];
  while (remaining.length > 0) {
    const best = remaining[0]!;
    const group: DetectedFace[] = [];
    const rest: DetectedFace[] = [];
    for (const face of remaining) (iou(best.box, face.box) > iouThreshold ? group : rest).push(face);
    remaining = rest;
    const total = group.reduce((s, f) => s + f.score, 0);
    const mean = (pick: (f: DetectedFace) => number) =>
      group.reduce((s, f) => s + pick(f) * f.score, 0) / total;
    merged.push({
      score: best.score,
      box: {
        x: mean((f) => f.box.x),
        y: mean((f) => f.box.y),
        width: mean((f) => f.box.width),
        height: mean((f) => f.box.height),
      },
      landmarks: best.landmarks.map((_, i) => ({
        x: mean((f) => f.landmarks[i]!.x),
        y: mean((f) => f.landmarks[i]!.y),
      })),
    });
  }
  return merged;
}
