/**
 * Mounts the README's component (Readme.svelte) with `data.org_id` from `?room=`, and records every
 * text its status line shows, so the test can tell that it reached `connected` and never left it.
 */
import { mount } from 'svelte';
import Readme from './Readme.svelte';

const room = new URLSearchParams(location.search).get('room') ?? 'lobby';
const shown: string[] = [];
const target = document.createElement('main');
document.body.appendChild(target);
mount(Readme, { target, props: { data: { org_id: room } } });

const line = () => target.querySelector('p')?.textContent ?? '';
const record = () => {
	if (shown.at(-1) !== line()) shown.push(line());
};
record();
new MutationObserver(record).observe(target, { subtree: true, characterData: true, childList: true });
(window as unknown as { readme: { shown: string[] } }).readme = { shown };
