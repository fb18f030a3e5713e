/** How far ahead a moment is, for people: "in 3 days", "in 20 hours", "in 5 minutes" (never in the past). */
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "always" });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["day", 86_400],
  ["hour", 3600],
  ["minute", 60],
];

export function formatUntil(iso: string, now: number): string {
  const seconds = Math.max(0, (Date.parse(iso) - now) / 1000);
  for (const [unit, size] of UNITS) {
    if (seconds >= size) return relative.format(Math.floor(seconds / size), unit);
  }
  return relative.format(Math.ceil(seconds), "second");
}
