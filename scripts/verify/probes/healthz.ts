/** Probe shown in check 7: the collector's `/healthz`, when its URL is known. */

/** Whether `/healthz` answered 2xx, and a line saying what it answered. */
export interface HealthzProbe {
  ok: boolean;
  text: string;
}

/** Options of the `/healthz` probe. */
export interface ProbeHealthzOptions {
  abortSignal?: AbortSignal;
}

/** GETs the collector's `/healthz`; never throws. */
export async function probeHealthz(
  url: string,
  options: ProbeHealthzOptions = {},
): Promise<HealthzProbe> {
  const { abortSignal } = options;
  try {
    const response = await fetch(url, { signal: abortSignal });
    const body = await response.text();
    let summary = "";
    try {
      const parsed = JSON.parse(body) as { status?: unknown };
      if (typeof parsed.status === "string") summary = ` (${parsed.status})`;
    } catch {
      // A plain-text body is fine; only the status code matters.
    }
    return {
      ok: response.ok,
      text: `collector /healthz answered ${response.status}${summary}`,
    };
  } catch (error) {
    if (abortSignal?.aborted)
      return { ok: false, text: "collector /healthz did not answer in time" };
    const code = (error as { cause?: { code?: string } }).cause?.code;
    return { ok: false, text: `collector /healthz unreachable${code ? ` (${code})` : ""}` };
  }
}
