/**
 * Probe of check 7: the collector's `/healthz`, when its URL is known: shown as context next to
 * the workspace, and the evidence of delivery when no sink writes to a workspace.
 */

/** The collector's delivery counters, as its `/healthz` reports them (`delivery`). */
export interface HealthzDelivery {
  sinks: string[];
  recordsDelivered: number;
  /** Epoch ms the collector started counting. */
  sinceMs: number;
  /** Epoch ms of the last delivery, if any. */
  lastDeliveryMs: number | null;
}

/** Whether `/healthz` answered 2xx, a line saying what it answered, and its delivery counters. */
export interface HealthzProbe {
  ok: boolean;
  text: string;
  /** Present when the collector reports them (every collector since they were added). */
  delivery?: HealthzDelivery;
}

/** Reads the `delivery` object of a `/healthz` body; undefined when absent or malformed. */
export function deliveryOf(body: unknown): HealthzDelivery | undefined {
  if (body === null || typeof body !== "object") return undefined;
  const delivery = (body as { delivery?: unknown }).delivery;
  if (delivery === null || typeof delivery !== "object") return undefined;
  const d = delivery as Record<string, unknown>;
  const sinceMs = typeof d.since === "string" ? Date.parse(d.since) : Number.NaN;
  const lastMs = typeof d.lastDeliveryAt === "string" ? Date.parse(d.lastDeliveryAt) : Number.NaN;
  if (
    !Array.isArray(d.sinks) ||
    typeof d.recordsDelivered !== "number" ||
    !Number.isFinite(sinceMs)
  ) {
    return undefined;
  }
  return {
    sinks: d.sinks.map(String),
    recordsDelivered: d.recordsDelivered,
    sinceMs,
    lastDeliveryMs: Number.isFinite(lastMs) ? lastMs : null,
  };
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
    let delivery: HealthzDelivery | undefined;
    try {
      const parsed = JSON.parse(body) as { status?: unknown };
      if (typeof parsed.status === "string") summary = ` (${parsed.status})`;
      delivery = deliveryOf(parsed);
    } catch {
      // A plain-text body is fine; only the status code matters.
    }
    return {
      ok: response.ok,
      text: `collector /healthz answered ${response.status}${summary}`,
      ...(delivery ? { delivery } : {}),
    };
  } catch (error) {
    if (abortSignal?.aborted)
      return { ok: false, text: "collector /healthz did not answer in time" };
    const code = (error as { cause?: { code?: string } }).cause?.code;
    return { ok: false, text: `collector /healthz unreachable${code ? ` (${code})` : ""}` };
  }
}
