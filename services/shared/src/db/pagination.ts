/**
 * Cursor pagination over (time field desc, _id desc): stable under concurrent inserts, no skips.
 * The page token is opaque to clients (base64url JSON).
 */
import { invalidArgument } from "../errors.ts";

export interface Cursor {
  at: Date;
  id: string;
}

export function encodePageToken(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.getTime(), id])).toString("base64url");
}

export function decodePageToken(token: string): Cursor {
  try {
    const [at, id] = JSON.parse(Buffer.from(token, "base64url").toString()) as unknown[];
    // Number.isFinite is not enough: 1e300 is finite but no Date can hold it (an Invalid Date that
    // would fail deep in the query as a 500).
    const date = typeof at === "number" ? new Date(at) : undefined;
    if (date && !Number.isNaN(date.getTime()) && typeof id === "string" && id.length <= 64) {
      return { at: date, id };
    }
  } catch {
    // fall through to the error below
  }
  throw invalidArgument("invalid_page_token", "pageToken is not a token this API returned");
}

/** The filter selecting rows strictly after the cursor in (field desc, _id desc) order. */
export function afterCursor(field: string, pageToken: string): Record<string, unknown> {
  if (!pageToken) return {};
  const { at, id } = decodePageToken(pageToken);
  return { $or: [{ [field]: { $lt: at } }, { [field]: at, _id: { $lt: id } }] };
}

export function clampPageSize(requested: number, fallback: number, max = 500): number {
  if (!Number.isInteger(requested) || requested < 0 || requested > max) {
    throw invalidArgument("invalid_page_size", `pageSize must be between 1 and ${max}`);
  }
  return requested === 0 ? fallback : requested;
}

/** Runs a page query that fetched one row more than `size`, and returns the rows plus the next token. */
export function toPage<T extends { _id: string }>(
  rows: T[],
  size: number,
  at: (row: T) => Date,
): { rows: T[]; nextPageToken: string } {
  if (rows.length <= size) return { rows, nextPageToken: "" };
  const page = rows.slice(0, size);
  const last = page[page.length - 1]!;
  return { rows: page, nextPageToken: encodePageToken(at(last), last._id) };
}
