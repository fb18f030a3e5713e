import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { createLogger } from "./logger.ts";

function capture(isTTY: boolean) {
  const lines: string[] = [];
  const destination = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split("\n").filter(Boolean));
        done();
      },
    }),
    { isTTY },
  );
  return { lines, destination };
}

describe("worker log", () => {
  it("writes JSON with ISO times when stdout is not a terminal (log collectors)", () => {
    const { lines, destination } = capture(false);
    createLogger({ level: "info", base: { workerId: "w-1" }, destination }).warn({ code: "x" }, "paused: x");
    assert.equal(lines.length, 1);
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(record.msg, "paused: x");
    assert.equal(record.workerId, "w-1");
    assert.match(String(record.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("writes one human line on a terminal: time, level, message; no JSON, no epoch ms", () => {
    const { lines, destination } = capture(true);
    createLogger({ level: "info", base: { workerId: "w-1" }, destination }).error(
      "paused: key_inactive — check key status: activate the key in the dashboard (API Keys)",
    );
    assert.equal(lines.length, 1);
    // Colours are on for a terminal; strip them to read the text.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences
    const text = lines[0]!.replace(/\u001b\[[0-9;]*m/g, "");
    assert.match(
      text,
      /^\[\d\d:\d\d:\d\d\] ERROR: paused: key_inactive — check key status: activate the key/,
    );
    assert.doesNotMatch(text, /[{]|\d{13}/);
  });
});
