// Picks the detector named by DETECTOR_TYPE.
import { BlazeFaceDetector } from "./blazeface.ts";
import type { Detector } from "./detector.ts";
import { YunetDetector } from "./yunet.ts";

export const DETECTOR_TYPES = ["yunet", "blazeface"] as const;
export type DetectorType = (typeof DETECTOR_TYPES)[number];

const OPENERS: Record<DetectorType, (modelsDir: string) => Promise<Detector>> = {
  yunet: (dir) => YunetDetector.open(dir),
  blazeface: (dir) => BlazeFaceDetector.open(dir),
};

export function openDetector(type: DetectorType, modelsDir: string): Promise<Detector> {
  return OPENERS[type](modelsDir);
}
