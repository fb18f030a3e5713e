/**
 * Server-Sent Events read from a fetch() body (EventSource cannot send the bearer token): the
 * text/event-stream framing of the HTML standard, for the fields this API uses (event, data, id;
 * comments such as `: keep-alive` are skipped).
 */
export interface ServerSentEvent {
  event: string;
  data: string;
  id: string;
}

/** Splits a growing text stream into events; feed it chunks, it returns the events they complete. */
export class EventStreamParser {
  #buffer = "";
  #event = "";
  #data: string[] = [];
  #id = "";

  push(chunk: string): ServerSentEvent[] {
    this.#buffer += chunk;
    const events: ServerSentEvent[] = [];
    let newline = this.#buffer.search(/\r\n|\r|\n/);
    while (newline !== -1) {
      const line = this.#buffer.slice(0, newline);
      const width = this.#buffer.startsWith("\r\n", newline) ? 2 : 1;
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (width === 1 && this.#buffer[newline] === "\r" && newline === this.#buffer.length - 1) break;
      this.#buffer = this.#buffer.slice(newline + width);
      const event = this.#line(line);
      if (event) events.push(event);
      newline = this.#buffer.search(/\r\n|\r|\n/);
    }
    return events;
  }

  #line(line: string): ServerSentEvent | null {
    if (line === "") {
      const event =
        this.#data.length > 0
          ? { event: this.#event || "message", data: this.#data.join("\n"), id: this.#id }
          : null;
      this.#event = "";
      this.#data = [];
      return event;
    }
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.#event = value;
    else if (field === "data") this.#data.push(value);
    else if (field === "id" && !value.includes("\0")) this.#id = value;
    return null;
  }
}
