/**
 * The listener registry behind `on` / `once` / `off` (client/events.ts): what runs during an emit
 * when listeners come and go meanwhile, with one listener and with several.
 */
import { describe, expect, test } from 'bun:test';
import { Listeners } from '../../client/events.js';

describe('Listeners', () => {
	test.each([1, 3])('a listener added during an emit runs from the next one (%i listeners before)', (before) => {
		const listeners = new Listeners();
		const heard: string[] = [];
		for (let i = 0; i < before; i++)
			listeners.on('x', () => {
				heard.push(`old${i}`);
				if (i === 0 && heard.length === 1) listeners.on('x', () => heard.push('new'));
			});
		listeners.emit('x', 1);
		expect(heard).toEqual(Array.from({ length: before }, (_, i) => `old${i}`));
		heard.length = 0;
		listeners.emit('x', 2);
		expect(heard).toEqual([...Array.from({ length: before }, (_, i) => `old${i}`), 'new']);
	});

	test('a once listener alone runs once, even when it emits again', () => {
		const listeners = new Listeners();
		const heard: unknown[] = [];
		listeners.on(
			'x',
			(data: never) => {
				heard.push(data);
				listeners.emit('x', 'again');
			},
			true,
		);
		listeners.emit('x', 'first');
		listeners.emit('x', 'later');
		expect(heard).toEqual(['first']);
		expect(listeners.count('x')).toBe(0);
	});

	test('a listener that throws is reported and the wildcard still hears the event', () => {
		const listeners = new Listeners();
		const wildcard: unknown[] = [];
		listeners.on('x', () => {
			throw new Error('listener bug');
		});
		listeners.on('*', (event: never) => wildcard.push(event));
		const error = console.error;
		const reported: unknown[] = [];
		console.error = (...args: unknown[]) => void reported.push(args[0]);
		try {
			listeners.emit('x', 5);
		} finally {
			console.error = error;
		}
		expect(reported).toEqual(['@delightstack/websocket: a "x" listener threw']);
		expect(wildcard).toEqual([{ event: 'x', data: 5 }]);
	});

	test('a listener removed by an earlier one does not run', () => {
		const listeners = new Listeners();
		const heard: string[] = [];
		let removeSecond = () => {};
		listeners.on('x', () => {
			heard.push('first');
			removeSecond();
		});
		removeSecond = listeners.on('x', () => heard.push('second'));
		listeners.emit('x', 1);
		expect(heard).toEqual(['first']);
	});
});
