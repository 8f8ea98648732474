import { describe, expect, it } from 'vitest';
import { SseParser } from './sse';

describe('SseParser', () => {
  it('parses events with ids, joins data lines, skips comments', () => {
    const parser = new SseParser();
    const events = parser.push(': keep-alive\n\nid: 1\ndata: {"a":1}\n\nid: 2\nevent: note\ndata: first\ndata: second\n\n');
    expect(events).toEqual([
      { event: 'message', data: '{"a":1}', id: '1' },
      { event: 'note', data: 'first\nsecond', id: '2' },
    ]);
    expect(parser.lastEventId).toBe('2');
  });

  it('keeps an event split across chunks until its blank line', () => {
    const parser = new SseParser();
    expect(parser.push('id: 7\nda')).toEqual([]);
    expect(parser.push('ta: {"type":"job.progress"')).toEqual([]);
    expect(parser.push('}\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ event: 'message', data: '{"type":"job.progress"}', id: '7' }]);
  });

  it('accepts CRLF and CR line ends, even a CRLF split between chunks', () => {
    const parser = new SseParser();
    expect(parser.push('id: 1\r\ndata: x\r')).toEqual([]);
    expect(parser.push('\n\r\n')).toEqual([{ event: 'message', data: 'x', id: '1' }]);
    expect(parser.push('data: y\r\r')).toEqual([{ event: 'message', data: 'y', id: '1' }]);
  });

  it('carries the last id to later events and starts from a given one', () => {
    const parser = new SseParser('41');
    expect(parser.push('data: a\n\n')).toEqual([{ event: 'message', data: 'a', id: '41' }]);
    expect(parser.push('id: 42\n\ndata: b\n\n')).toEqual([{ event: 'message', data: 'b', id: '42' }]);
  });

  it('takes a field without a colon, and keeps spaces after the first', () => {
    const parser = new SseParser();
    expect(parser.push('data\ndata:  two spaces\n\n')).toEqual([{ event: 'message', data: '\n two spaces', id: null }]);
  });
});
