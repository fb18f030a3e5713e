/** Dates for people: relative ("5 minutes ago") with the exact local time available on hover. */

const exactFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/**
 * Under ten seconds is "just now"; under a minute counts seconds, so a worker whose last batch was
 * 40 s ago does not read as live. A past time up to a minute ahead of this browser's clock (the
 * server's clock runs a little fast) is "just now" too, not "in 20 seconds".
 */
export function formatRelative(iso: string, now: number): string {
  const seconds = (Date.parse(iso) - now) / 1000;
  if (seconds > -10 && seconds < 60) return "just now";
  if (seconds > -60) return relativeFormat.format(Math.round(seconds), "second");
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relativeFormat.format(Math.round(seconds / size), unit);
  }
  return relativeFormat.format(Math.round(seconds / 60), "minute");
}

export const formatExact = (iso: string): string => exactFormat.format(new Date(iso));

export const formatDate = (iso: string): string => dateFormat.format(new Date(iso));

const clockFormat = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

export const formatClock = (time: number): string => clockFormat.format(new Date(time));

const dayTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "numeric",
  minute: "2-digit",
});

/** A recent moment in few characters: the clock time when it was today, else the day and time. */
export function formatMoment(iso: string, now: number): string {
  const time = Date.parse(iso);
  return new Date(time).toDateString() === new Date(now).toDateString()
    ? formatClock(time)
    : dayTimeFormat.format(new Date(time));
}
