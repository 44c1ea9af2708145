/** The frame header: kinds, ids of 1 to 15 digits, and what is not a header of ours; events frames. */
import { expect, test } from 'bun:test';
import { eventLine, eventPayload, eventsFrame, parseFrame, readEventLine, readHeader } from '../../rpc/frame.js';
import { encodePayload } from '../../rpc/payload.js';

test('a call or reply header carries its id and where the body starts', () => {
	expect(readHeader('c0\n["pull",1]')).toEqual({ kind: 'call', id: 0, body: 3 });
	expect(readHeader('r42\nx')).toEqual({ kind: 'reply', id: 42, body: 4 });
	expect(readHeader('x123456789012345\n{}')).toEqual({ kind: 'refused', id: 123456789012345, body: 17 });
	expect(readHeader('e\n[]')).toEqual({ kind: 'push', id: -1, body: 2 });
	expect(readHeader('v\n[]')).toEqual({ kind: 'events', id: -1, body: 2 });
	expect(readHeader('a\nnonce')).toEqual({ kind: 'ack', id: -1, body: 2 });
});

test('anything else is not a header', () => {
	for (const raw of [
		'c\n[]',
		'c1234567890123456\n[]',
		'c-1\n[]',
		'c1a\n[]',
		'c 1\n[]',
		'c1.5\n[]',
		'c/\n',
		'c:\n',
		'q1\n[]',
		'c1',
		'e1\n[]',
		'v1\n[]',
		'\n',
		'',
	]) {
		expect(readHeader(raw)).toBeNull();
	}
});

test('an events frame is one line of JSON per event, its name and payload, read back as written', () => {
	const payloads = [encodePayload({ text: 'a\nb', list: [[1, [2]], []] }), encodePayload({ at: new Date(5), n: undefined }), encodePayload(null)];
	const lines = payloads.map((payload, i) => eventLine(`chat:${i}`, payload));
	// Escaped newlines only: one line each. No capnweb escapes (an array is written as itself), and
	// without meta no wrapper: the value itself.
	expect(lines[0]).toBe('["chat:0",{"text":"a\\nb","list":[[1,[2]],[]]}]');
	expect(lines[1]).toBe(`["chat:1",${JSON.stringify(payloads[1]!.json)},${JSON.stringify(payloads[1]!.meta)}]`);
	expect(lines[2]).toBe('["chat:2",null]');
	const frame = eventsFrame(lines);
	expect(frame.split('\n')).toHaveLength(4);
	expect(parseFrame(frame)).toEqual({ kind: 'events', messages: lines });
	const read = lines.map((line) => readEventLine(line)!);
	expect(read.map((event) => event[0])).toEqual(['chat:0', 'chat:1', 'chat:2']);
	expect(read.map(eventPayload)).toEqual(payloads);
});

test('a line that is not one event reads as none', () => {
	for (const line of ['', 'x', '{"a":1}', '[]', '["only"]', '["a",{},3,4]', '[1,{}]', '[null,{}]', '["a",{}']) {
		expect(readEventLine(line)).toBeUndefined();
	}
	// The payload is the decoder's to check.
	expect(readEventLine('["a",1,{"v":1}]')).toEqual(['a', 1, { v: 1 }]);
});
