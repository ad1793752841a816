/**
 * Resolves after `durationInMs` or as soon as `options.abortSignal` aborts. Never rejects: the
 * run loop checks the signal itself after waking.
 */
export function pause(durationInMs: number, options: { abortSignal: AbortSignal }): Promise<void> {
  const signal = options.abortSignal;
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, durationInMs);
    signal.addEventListener("abort", done, { once: true });
  });
}
