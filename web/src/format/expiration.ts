/**
 * An API key's expiration is picked as a calendar day. The key keeps working through
 * the end of that day in the admin's time zone, which is what "expires on 31 Dec" means
 * to a person; the server receives the exact instant.
 */

function endOfLocalDay(time: number): Date {
  const end = new Date(time);
  end.setHours(23, 59, 59, 999);
  return end;
}

function startOfLocalDay(time: number): number {
  const start = new Date(time);
  start.setHours(0, 0, 0, 0);
  return start.getTime();
}

/** Today and later can be chosen; earlier days are refused (the server would refuse them too). */
export const isSelectableExpiryDay = (day: number, now: number = Date.now()): boolean =>
  endOfLocalDay(day).getTime() > now;

export const expiryFromDay = (day: number): string => endOfLocalDay(day).toISOString();

export const dayFromExpiry = (iso: string): number => startOfLocalDay(Date.parse(iso));
