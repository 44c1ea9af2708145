/**
 * The page events a tab's port cares about. `pagehide` is the last moment a page reliably runs
 * code (`unload` is unreliable and blocks the back/forward cache), so that is when the tab says
 * goodbye to the SharedWorker. A page restored from the back/forward cache (`pageshow` with
 * `persisted`) has been released meanwhile and joins again.
 */

export interface PageLifecycleHandlers {
	/** The page is being hidden for good or put into the back/forward cache. */
	hide(): void;
	/** The page came back from the back/forward cache. */
	restore(): void;
}

/** Subscribes to page lifecycle events; returns the unsubscribe function. */
export type PageLifecycle = (handlers: PageLifecycleHandlers) => () => void;

/** The browser's `pagehide` / `pageshow`; does nothing where there is no `window`. */
export const browserPageLifecycle: PageLifecycle = (handlers) => {
	const scope = (globalThis as { window?: Window }).window;
	if (!scope) return () => {};
	const onHide = () => handlers.hide();
	const onShow = (event: PageTransitionEvent) => {
		if (event.persisted) handlers.restore();
	};
	scope.addEventListener('pagehide', onHide);
	scope.addEventListener('pageshow', onShow);
	return () => {
		scope.removeEventListener('pagehide', onHide);
		scope.removeEventListener('pageshow', onShow);
	};
};
