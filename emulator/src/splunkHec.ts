/**
 * Splunk HTTP Event Collector, as far as the collector's splunk-hec sink uses it, written from
 * Splunk's documentation:
 * - requests: https://docs.splunk.com/Documentation/Splunk/latest/Data/FormateventsforHTTPEventCollector
 * - answers and status codes: https://docs.splunk.com/Documentation/Splunk/latest/Data/TroubleshootHTTPEventCollector
 * - indexer acknowledgement: https://docs.splunk.com/Documentation/Splunk/latest/Data/AboutHECIDXAck
 *
 * `POST /services/collector/event` takes concatenated JSON envelopes with `Authorization:
 * Splunk <token>`; `POST /services/collector/ack` answers `{"acks":{"<id>":bool}}`. Knobs make it
 * busy (503, code 9), throttled (429), down (500, code 8), slow to acknowledge, or restart it
 * (events not yet indexed and every pending ack are dropped, like an indexer restart).
 */
import { type RequestContext, type Router, readBody, sendJson } from "./http";

/** HEC status codes (the troubleshooting page's table): code → HTTP status and text. */
export const HEC_CODES = {
  0: [200, "Success"],
  1: [403, "Token disabled"],
  2: [401, "Token is required"],
  3: [401, "Invalid authorization"],
  4: [403, "Invalid token"],
  5: [400, "No data"],
  6: [400, "Invalid data format"],
  7: [400, "Incorrect index"],
  8: [500, "Internal server error"],
  9: [503, "Server is busy"],
  10: [400, "Data channel is missing"],
  11: [400, "Invalid data channel"],
  12: [400, "Event field is required"],
  13: [400, "Event field cannot be blank"],
  14: [400, "ACK is disabled"],
} as const satisfies Record<number, readonly [number, string]>;
export type HecCode = keyof typeof HEC_CODES;

/** Largest request body accepted (Splunk's max_content_length default in older releases). */
const MAX_BODY_BYTES = 1_000_000;

/** Behaviour of the emulated HEC; mutable while running. */
export interface SplunkHecKnobs {
  /** The token's state. */
  tokenDisabled: boolean;
  /** Indexer acknowledgement enabled on the token. */
  ackEnabled: boolean;
  /** Indexes the token may write to; the first is its default index. */
  allowedIndexes: string[];
  /** Events become indexed (and their ackId true) this long after the request. */
  ackDelayMs: number;
  /** The next N event requests answer 503 code 9 "Server is busy". */
  busyRequests: number;
  /** The next N event requests answer 429 with Retry-After. */
  throttledRequests: number;
  /** While true, every request answers 500 code 8. */
  outage: boolean;
}

/** One event as Splunk would index it. */
export interface HecEvent {
  time?: number;
  source?: string;
  sourcetype?: string;
  index: string;
  host?: string;
  /** The `event` value's JSON text exactly as sent. */
  eventText: string;
  /** When it was indexed (emulator clock). */
  indexedAtMs: number;
}

interface Pending {
  ackId: number;
  channel: string;
  dueMs: number;
  events: Omit<HecEvent, "indexedAtMs">[];
}

/** The emulated HEC: its token, knobs and what it indexed. */
export interface SplunkHecReceiver {
  token: string;
  knobs: SplunkHecKnobs;
  /** Events indexed, in order (duplicates kept: a repeat shows as two entries). */
  events(): readonly HecEvent[];
  /** Event requests received (accepted or not). */
  requests(): number;
  /** Drops events not yet indexed and every channel's ack state, like an indexer restart. */
  restart(): void;
}

export function defaultSplunkHecKnobs(): SplunkHecKnobs {
  return {
    tokenDisabled: false,
    ackEnabled: true,
    allowedIndexes: ["main", "o365"],
    ackDelayMs: 0,
    busyRequests: 0,
    throttledRequests: 0,
    outage: false,
  };
}

function answer(ctx: RequestContext, code: HecCode, extra: Record<string, unknown> = {}): void {
  const [status, text] = HEC_CODES[code];
  ctx.code = code === 0 ? undefined : `HEC${code}`;
  sendJson(ctx, status, { text, code, ...extra });
}

/**
 * Splits concatenated JSON objects (HEC's batch format: objects back to back, whitespace
 * between them allowed). Returns each object's text, or undefined when the body is not that.
 */
export function splitConcatenatedJson(body: string): string[] | undefined {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      if (depth === 0) return undefined;
      inString = true;
    } else if (c === "{") {
      if (depth === 0) start = i;
      depth++;
    } else if (c === "}") {
      depth--;
      if (depth < 0) return undefined;
      if (depth === 0) out.push(body.slice(start, i + 1));
    } else if (depth === 0 && !/\s/.test(c)) {
      return undefined;
    }
  }
  return depth === 0 ? out : undefined;
}

/** The `event` member's raw text in an envelope (the value exactly as sent). */
function eventText(envelope: string): string | undefined {
  const parsed = JSON.parse(envelope) as Record<string, unknown>;
  if (!("event" in parsed)) return undefined;
  // Re-find the value's exact text: the last top-level member named "event".
  const match = /"event"\s*:\s*/g;
  let found: RegExpExecArray | null;
  let last: number | undefined;
  for (found = match.exec(envelope); found; found = match.exec(envelope)) {
    last = found.index + found[0].length;
  }
  if (last === undefined) return undefined;
  const rest = envelope.slice(last, -1).trimEnd();
  return rest;
}

/** Registers the HEC routes; `now` is the emulator's clock. */
export function registerSplunkHec(
  router: Router,
  token: string,
  now: () => number,
  knobs: SplunkHecKnobs = defaultSplunkHecKnobs(),
): SplunkHecReceiver {
  const indexed: HecEvent[] = [];
  let pending: Pending[] = [];
  const nextAckId = new Map<string, number>();
  /** Channel → ackId → indexed. */
  const acks = new Map<string, Map<number, boolean>>();
  let requestCount = 0;

  const settle = () => {
    const at = now();
    const still: Pending[] = [];
    for (const p of pending) {
      if (p.dueMs <= at) {
        for (const event of p.events) indexed.push({ ...event, indexedAtMs: at });
        acks.get(p.channel)?.set(p.ackId, true);
      } else {
        still.push(p);
      }
    }
    pending = still;
  };

  /** Authorization check; answers and returns false when refused. */
  const authorized = (ctx: RequestContext): boolean => {
    const header = ctx.req.headers.authorization;
    if (header === undefined || header === "") {
      answer(ctx, 2);
      return false;
    }
    const m = /^Splunk (\S+)$/.exec(header);
    if (!m) {
      answer(ctx, 3);
      return false;
    }
    if (m[1] !== token) {
      answer(ctx, 4);
      return false;
    }
    if (knobs.tokenDisabled) {
      answer(ctx, 1);
      return false;
    }
    return true;
  };

  const channelOf = (ctx: RequestContext): string | undefined =>
    (ctx.req.headers["x-splunk-request-channel"] as string | undefined) ??
    ctx.url.searchParams.get("channel") ??
    undefined;

  const onEvent = async (ctx: RequestContext) => {
    requestCount++;
    const body = (await readBody(ctx.req, { maxWireBytes: MAX_BODY_BYTES, gunzip: true })).toString(
      "utf8",
    );
    if (knobs.outage) return answer(ctx, 8);
    if (!authorized(ctx)) return;
    if (knobs.throttledRequests > 0) {
      knobs.throttledRequests--;
      ctx.code = "HEC429";
      return sendJson(ctx, 429, { text: "Too Many Requests" }, { "Retry-After": "1" });
    }
    if (knobs.busyRequests > 0) {
      knobs.busyRequests--;
      return answer(ctx, 9);
    }
    const channel = channelOf(ctx);
    if (knobs.ackEnabled) {
      if (channel === undefined) return answer(ctx, 10);
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(channel)) {
        return answer(ctx, 11);
      }
    }
    if (body.trim() === "") return answer(ctx, 5);
    const envelopes = splitConcatenatedJson(body);
    if (!envelopes || envelopes.length === 0) return answer(ctx, 6);
    const events: Omit<HecEvent, "indexedAtMs">[] = [];
    for (const [n, envelope] of envelopes.entries()) {
      let parsed: Record<string, unknown>;
      let text: string | undefined;
      try {
        parsed = JSON.parse(envelope) as Record<string, unknown>;
        text = eventText(envelope);
      } catch {
        return answer(ctx, 6, { "invalid-event-number": n });
      }
      if (text === undefined) return answer(ctx, 12, { "invalid-event-number": n });
      if (text === '""' || text === "null" || text === "{}") {
        return answer(ctx, 13, { "invalid-event-number": n });
      }
      const index = parsed.index === undefined ? knobs.allowedIndexes[0]! : String(parsed.index);
      if (!knobs.allowedIndexes.includes(index)) {
        return answer(ctx, 7, { "invalid-event-number": n });
      }
      events.push({
        ...(typeof parsed.time === "number" ? { time: parsed.time } : {}),
        ...(typeof parsed.source === "string" ? { source: parsed.source } : {}),
        ...(typeof parsed.sourcetype === "string" ? { sourcetype: parsed.sourcetype } : {}),
        ...(typeof parsed.host === "string" ? { host: parsed.host } : {}),
        index,
        eventText: text,
      });
    }
    if (!knobs.ackEnabled) {
      const at = now();
      for (const event of events) indexed.push({ ...event, indexedAtMs: at });
      return answer(ctx, 0);
    }
    const ch = channel!;
    const ackId = nextAckId.get(ch) ?? 0;
    nextAckId.set(ch, ackId + 1);
    if (!acks.has(ch)) acks.set(ch, new Map());
    acks.get(ch)!.set(ackId, false);
    pending.push({ ackId, channel: ch, dueMs: now() + knobs.ackDelayMs, events });
    settle();
    return answer(ctx, 0, { ackId });
  };

  const onAck = async (ctx: RequestContext) => {
    const body = (await readBody(ctx.req, { maxWireBytes: MAX_BODY_BYTES })).toString("utf8");
    if (knobs.outage) return answer(ctx, 8);
    if (!authorized(ctx)) return;
    if (!knobs.ackEnabled) return answer(ctx, 14);
    const channel = channelOf(ctx);
    if (channel === undefined) return answer(ctx, 10);
    let ids: unknown;
    try {
      ids = (JSON.parse(body) as { acks?: unknown }).acks;
    } catch {
      return answer(ctx, 6);
    }
    if (!Array.isArray(ids)) return answer(ctx, 6);
    settle();
    const state = acks.get(channel);
    const out: Record<string, boolean> = {};
    for (const id of ids) {
      const n = Number(id);
      const indexedNow = state?.get(n) === true;
      out[String(id)] = indexedNow;
      // Splunk forgets an ackId once it has reported it true.
      if (indexedNow) state?.delete(n);
    }
    ctx.code = undefined;
    sendJson(ctx, 200, { acks: out });
  };

  const onHealth = (ctx: RequestContext) => {
    if (knobs.outage) return answer(ctx, 8);
    sendJson(ctx, 200, { text: "HEC is healthy", code: 17 });
  };

  router.add("POST", /^\/services\/collector(?:\/event(?:\/1\.0)?)?\/?$/, onEvent);
  router.add("POST", /^\/services\/collector\/ack\/?$/, onAck);
  router.add("GET", /^\/services\/collector\/health(?:\/1\.0)?\/?$/, onHealth);

  return {
    token,
    knobs,
    events: () => {
      settle();
      return indexed;
    },
    requests: () => requestCount,
    restart: () => {
      pending = [];
      acks.clear();
      nextAckId.clear();
    },
  };
}
