/** The frame header: kinds, ids of 1 to 15 digits, and what is not a header of ours. */
import { expect, test } from 'bun:test';
import { readHeader } from '../../rpc/frame.js';

test('a call or reply header carries its id and where the body starts', () => {
	expect(readHeader('c0\n["pull",1]')).toEqual({ kind: 'call', id: 0, body: 3 });
	expect(readHeader('r42\nx')).toEqual({ kind: 'reply', id: 42, body: 4 });
	expect(readHeader('x123456789012345\n{}')).toEqual({ kind: 'refused', id: 123456789012345, body: 17 });
	expect(readHeader('e\n[]')).toEqual({ kind: 'push', id: -1, body: 2 });
	expect(readHeader('a\nnonce')).toEqual({ kind: 'ack', id: -1, body: 2 });
});

test('anything else is not a header', () => {
	for (const raw of ['c\n[]', 'c1234567890123456\n[]', 'c-1\n[]', 'c1a\n[]', 'c 1\n[]', 'c1.5\n[]', 'c/\n', 'c:\n', 'q1\n[]', 'c1', 'e1\n[]', '\n', '']) {
		expect(readHeader(raw)).toBeNull();
	}
});
