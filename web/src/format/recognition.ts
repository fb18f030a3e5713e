/**
 * What the evaluation says about each embedding model's threshold, for the Settings → Recognition
 * page (figures from `npm run eval:recognition`, as recorded beside the defaults in
 * services/shared/src/recognition/thresholds.ts).
 */
export const MODEL_NOTES: Readonly<Record<string, string>> = {
  "dlib/resnet-v1-128":
    "Its similarities run high: strangers averaged 0.81, the same person 0.97. At 0.908 about 1 stranger in 1,000 is taken for someone enrolled, and every genuine pair in the evaluation matched.",
  "vladmandic/mobilefacenet":
    "This model does not tell people apart (equal error rate 33 %): the default 0.999 makes it match almost nothing, on purpose.",
  "opencv/sface": "Not measured here: the default 0.363 is OpenCV's own recommended value.",
};
