/**
 * Server-sent events, parsed by hand: the app reads `/events` streams with fetch (EventSource
 * cannot send the bearer key), so it needs the parsing EventSource would do. Follows the HTML
 * spec's rules: lines end with LF, CR or CRLF; `data` lines join with LF; `id` sets the last event
 * id (and persists to later events); lines starting with `:` are comments (keep-alives); a blank
 * line dispatches an event, and one with no data is dropped.
 */

export interface SseMessage {
  /** The `event` field, `message` when absent. */
  event: string;
  data: string;
  /** The last event id at dispatch (this event's or an earlier one's), or null when none yet. */
  id: string | null;
}

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private lastId: string | null;
  /** Set when the previous chunk ended in CR, so an LF opening the next one is not a new line. */
  private pendingCr = false;

  constructor(lastId: string | null = null) {
    this.lastId = lastId;
  }

  /** The id to send as `Last-Event-ID` when reconnecting. */
  get lastEventId(): string | null {
    return this.lastId;
  }

  /** Feed decoded text; returns the events it completed. */
  push(text: string): SseMessage[] {
    let chunk = text;
    if (this.pendingCr && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.pendingCr = chunk.endsWith('\r');
    this.buffer += chunk;
    const out: SseMessage[] = [];
    const lines = this.buffer.split(/\r\n|\r|\n/);
    // The last piece has no line end yet (it is '' when the text ended with one).
    this.buffer = lines.pop() ?? '';
    for (const line of lines) {
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  private line(line: string): SseMessage | null {
    if (line === '') {
      const data = this.data;
      const event = this.event || 'message';
      this.data = [];
      this.event = '';
      if (data.length === 0) return null;
      return { event, data: data.join('\n'), id: this.lastId };
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      default:
        break; // `retry` and unknown fields: the app has its own reconnect policy
    }
    return null;
  }
}
