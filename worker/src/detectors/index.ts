// Picks the detector named by DETECTOR_TYPE.
import { BLAZEFACE_BACK, BlazeFaceDetector, DEFAULT_BLAZEFACE_OPTIONS } from "./blazeface.ts";
import { DEFAULT_DETECTOR_OPTIONS, DEFAULT_MIN_FACE_PX, type Detector, minBoxFor } from "./detector.ts";
import { YunetDetector } from "./yunet.ts";

export const DETECTOR_TYPES = ["yunet", "blazeface"] as const;
export type DetectorType = (typeof DETECTOR_TYPES)[number];

export interface DetectorSettings {
  /** MIN_FACE_PX: the smallest face, in frame pixels, to find. */
  readonly minFacePx: number;
}

const OPENERS: Record<DetectorType, (modelsDir: string, settings: DetectorSettings) => Promise<Detector>> = {
  yunet: (dir, { minFacePx }) =>
    YunetDetector.open(dir, { ...DEFAULT_DETECTOR_OPTIONS, minFaceSize: minBoxFor(minFacePx) }),
  blazeface: (dir, { minFacePx }) =>
    BlazeFaceDetector.open(dir, BLAZEFACE_BACK, {
      ...DEFAULT_BLAZEFACE_OPTIONS,
      minFaceSize: minBoxFor(minFacePx),
      tileForFacesOf: minFacePx,
    }),
};

export function openDetector(
  type: DetectorType,
  modelsDir: string,
  settings: DetectorSettings = { minFacePx: DEFAULT_MIN_FACE_PX },
): Promise<Detector> {
  return OPENERS[type](modelsDir, settings);
}
