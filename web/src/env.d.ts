/// <reference types="vite/client" />

/** Set by scripts/face-detector-assets.ts: where the in-browser face detector's files are served. */
declare const __FACE_DETECTOR_ASSETS__: { wasmBase: string; model: string };
