import { describe, expect, it } from "vitest";
import { EventStreamParser } from "./sse.ts";

describe("reading text/event-stream", () => {
  it("yields named events with their id and data, skipping keep-alive comments", () => {
    const parser = new EventStreamParser();
    const events = parser.push(': keep-alive\n\nevent: sighting.started\nid: 7\ndata: {"id":"s1"}\n\n');
    expect(events).toEqual([{ event: "sighting.started", id: "7", data: '{"id":"s1"}' }]);
  });

  it("completes an event split across chunks anywhere, CRLF included", () => {
    const parser = new EventStreamParser();
    const text = 'event: sighting.updated\r\nid: 8\r\ndata: {"id":\r\ndata: "s2"}\r\n\r\n';
    const seen = [...text].flatMap((ch) => parser.push(ch));
    expect(seen).toEqual([{ event: "sighting.updated", id: "8", data: '{"id":\n"s2"}' }]);
  });

  it("ignores a block without data and keeps the last id for the next event", () => {
    const parser = new EventStreamParser();
    expect(parser.push("id: 9\n\n")).toEqual([]);
    expect(parser.push("data: x\n\n")).toEqual([{ event: "message", id: "9", data: "x" }]);
  });
});
