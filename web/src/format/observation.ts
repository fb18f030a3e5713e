/**
 * A worker without tracking (basic mode) computes neither a track nor a quality score; proto3
 * sends those unset fields as trackId "0" and quality 0. Shown as numbers they read as a bad
 * track and the worst quality, so they are told apart here.
 */
export const NOT_COMPUTED_HINT = "Not computed: the worker runs without tracking (basic mode)";

/** The track id, or null when the observation was not tracked. */
export const trackOf = (trackId: string): string | null =>
  trackId === "" || trackId === "0" ? null : trackId;

/** The quality score to two decimals, or null when it was not computed. */
export const qualityOf = (quality: number): string | null => (quality === 0 ? null : quality.toFixed(2));
