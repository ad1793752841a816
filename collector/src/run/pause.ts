/** Resolves after `durationInMs` or as soon as `signal` aborts (never rejects). */
export function pause(durationInMs: number, signal: AbortSignal): Promise<void> {
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
