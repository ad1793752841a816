import { randomUUID } from "node:crypto";
import { LOG_ANALYTICS_AUDIENCES, normalizeAudience } from "./audiences";
import { type RequestContext, type Router, readBody, sendJson } from "./http";
import type { IngestedRow, IngestionTarget } from "./ingestion";
import { bearerToken } from "./jwt";
import { EMULATED_STREAM_NAME, EMULATED_TABLE_NAME } from "./microsoft/logsIngestion";
import type { EmulatorState } from "./state";

/**
 * Emulated Log Analytics query API, just enough for verify: the one summary query over the
 * AuditBridge table, answered from the rows the Logs Ingestion endpoint accepted, in the shape
 * `@azure/monitor-query-logs` parses. Any other query gets a 400 that says what is supported.
 *
 * A table with the Basic plan is queried through `POST /v1/workspaces/{id}/search`, with the
 * time range in the request (`?timespan=`) and not in the query; the answer has the shape of
 * `/query`'s: https://learn.microsoft.com/azure/azure-monitor/logs/basic-logs-query. What
 * `/query` answers for a Basic table is not documented: the emulator refuses it with a 400 that
 * names `/search`, the strict reading of that page.
 */

/** The one query shape the emulator answers (whitespace-insensitive; `<N>` with unit d, h or m). */
export const SUPPORTED_QUERY = `${EMULATED_TABLE_NAME} | where TimeGenerated > ago(<N>h) | summarize Rows = count(), Newest = max(TimeGenerated), NewestIngested = max(ingestion_time()) by ContentType`;
/** The same summary for `/search` over a Basic table: the time range comes from `?timespan=`. */
export const SUPPORTED_SEARCH_QUERY = `${EMULATED_TABLE_NAME} | summarize Rows = count(), Newest = max(TimeGenerated), NewestIngested = max(ingestion_time()) by ContentType`;

const SUMMARY = String.raw`summarize\s+Rows\s*=\s*count\(\s*\)\s*,\s*Newest\s*=\s*max\(\s*TimeGenerated\s*\)\s*,\s*NewestIngested\s*=\s*max\(\s*ingestion_time\(\s*\)\s*\)\s+by\s+ContentType\s*;?\s*$`;
const QUERY_PATTERN = new RegExp(
  String.raw`^\s*${EMULATED_TABLE_NAME}\s*\|\s*where\s+TimeGenerated\s*>\s*ago\(\s*(\d+(?:\.\d+)?)\s*([dhm])\s*\)\s*\|\s*${SUMMARY}`,
);
const SEARCH_PATTERN = new RegExp(String.raw`^\s*${EMULATED_TABLE_NAME}\s*\|\s*${SUMMARY}`);

const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000 };
const MAX_QUERY_BODY_BYTES = 256 * 1024;

/** Milliseconds of an ISO 8601 duration like PT1H or P1DT2H30M, or undefined. */
export function parseIsoDuration(text: string): number | undefined {
  const match =
    /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(
      text.trim(),
    );
  if (!match || text.trim().toUpperCase() === "P" || /T$/i.test(text.trim())) return undefined;
  const [, d = "0", h = "0", m = "0", s = "0"] = match;
  return Number(d) * 86_400_000 + Number(h) * 3_600_000 + Number(m) * 60_000 + Number(s) * 1000;
}

/** [from, to) of a query timespan: a duration ending now, start/end, start/duration or duration/end. */
export function parseTimespan(text: string, nowMs: number): [number, number] | undefined {
  const parts = text.split("/");
  if (parts.length === 1) {
    const duration = parseIsoDuration(parts[0]!);
    return duration === undefined ? undefined : [nowMs - duration, nowMs];
  }
  if (parts.length !== 2) return undefined;
  const [a, b] = parts as [string, string];
  const aTime = Date.parse(a);
  const bTime = Date.parse(b);
  if (!Number.isNaN(aTime) && !Number.isNaN(bTime)) return [aTime, bTime];
  if (!Number.isNaN(aTime)) {
    const duration = parseIsoDuration(b);
    return duration === undefined ? undefined : [aTime, aTime + duration];
  }
  if (!Number.isNaN(bTime)) {
    const duration = parseIsoDuration(a);
    return duration === undefined ? undefined : [bTime - duration, bTime];
  }
  return undefined;
}

function queryError(
  ctx: RequestContext,
  status: number,
  code: string,
  message: string,
  inner?: { code: string; message: string },
): void {
  sendJson(ctx, status, {
    error: {
      message,
      code,
      correlationId: randomUUID(),
      ...(inner ? { innererror: inner } : {}),
    },
  });
}

/** Registers the query route over the ingested rows. */
export function registerQuery(
  router: Router,
  state: EmulatorState,
  target: IngestionTarget,
  rows: readonly IngestedRow[],
): void {
  const answer = async (ctx: RequestContext, api: "query" | "search") => {
    const check = state.signer.verify(bearerToken(ctx.req.headers.authorization), state.now());
    if (!check.ok || !LOG_ANALYTICS_AUDIENCES.has(normalizeAudience(check.claims.aud))) {
      ctx.req.resume();
      return queryError(
        ctx,
        401,
        "InvalidTokenError",
        check.ok
          ? `The access token audience '${check.claims.aud}' is not https://api.loganalytics.io.`
          : `The provided authentication is not valid for this resource (${check.problem} token).`,
      );
    }
    if (ctx.params.workspaceId!.toLowerCase() !== target.workspaceId.toLowerCase()) {
      ctx.req.resume();
      return queryError(
        ctx,
        404,
        "WorkspaceNotFoundError",
        `The workspace ${ctx.params.workspaceId} could not be found.`,
      );
    }
    let body: { query?: unknown; timespan?: unknown };
    try {
      body = JSON.parse(
        (await readBody(ctx.req, { maxWireBytes: MAX_QUERY_BODY_BYTES })).toString("utf8"),
      ) as typeof body;
    } catch {
      return queryError(
        ctx,
        400,
        "BadArgumentError",
        "The request body must be JSON: {query, timespan?}.",
      );
    }
    if (typeof body?.query !== "string") {
      return queryError(
        ctx,
        400,
        "BadArgumentError",
        "The request body must contain a 'query' string.",
      );
    }
    const basic = state.knobs.tablePlan === "Basic";
    if (api === "query" && basic) {
      return queryError(ctx, 400, "BadArgumentError", "The request had some invalid properties", {
        code: "BasicTableQueryError",
        message: `${EMULATED_TABLE_NAME} has the Basic plan: query it through /search with the time range in ?timespan=`,
      });
    }
    if (api === "search" && !basic) {
      return queryError(ctx, 400, "BadArgumentError", "The request had some invalid properties", {
        code: "SearchTableError",
        message: `${EMULATED_TABLE_NAME} has the Analytics plan: query it through /query`,
      });
    }
    const match = (api === "query" ? QUERY_PATTERN : SEARCH_PATTERN).exec(body.query);
    if (!match) {
      return queryError(ctx, 400, "BadArgumentError", "The request had some invalid properties", {
        code: "SyntaxError",
        message: `The emulator answers only this query shape: ${api === "query" ? SUPPORTED_QUERY : SUPPORTED_SEARCH_QUERY}`,
      });
    }
    const nowMs = state.now();
    let fromMs =
      api === "query" ? nowMs - Number(match[1]) * UNIT_MS[match[2]!]! : Number.NEGATIVE_INFINITY;
    let toMs = Number.POSITIVE_INFINITY;
    // /query takes the timespan in the body; /search in the URL, where it is required.
    const timespan =
      api === "query" ? body.timespan : (ctx.url.searchParams.get("timespan") ?? undefined);
    if (api === "search" && (typeof timespan !== "string" || timespan === "")) {
      return queryError(
        ctx,
        400,
        "BadArgumentError",
        "A query on a Basic table needs its time range in the request: add ?timespan=<ISO 8601 duration or interval>.",
      );
    }
    if (typeof timespan === "string" && timespan !== "") {
      const span = parseTimespan(timespan, nowMs);
      if (!span) {
        return queryError(
          ctx,
          400,
          "BadArgumentError",
          `timespan '${timespan}' is not an ISO 8601 duration or interval.`,
        );
      }
      fromMs = Math.max(fromMs, span[0]);
      toMs = span[1];
    }
    const groups = new Map<string, { rows: number; newest: number; newestIngested: number }>();
    for (const ingested of rows) {
      if (ingested.stream !== EMULATED_STREAM_NAME) continue;
      const generated = Date.parse(String(ingested.row.TimeGenerated ?? ""));
      if (Number.isNaN(generated) || generated <= fromMs || generated >= toMs) continue;
      const contentType = String(ingested.row.ContentType ?? "");
      const group = groups.get(contentType) ?? {
        rows: 0,
        newest: generated,
        newestIngested: ingested.ingestedAtMs,
      };
      group.rows++;
      group.newest = Math.max(group.newest, generated);
      group.newestIngested = Math.max(group.newestIngested, ingested.ingestedAtMs);
      groups.set(contentType, group);
    }
    sendJson(ctx, 200, {
      tables: [
        {
          name: "PrimaryResult",
          columns: [
            { name: "ContentType", type: "string" },
            { name: "Rows", type: "long" },
            { name: "Newest", type: "datetime" },
            { name: "NewestIngested", type: "datetime" },
          ],
          rows: [...groups.entries()]
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([contentType, g]) => [
              contentType,
              g.rows,
              new Date(g.newest).toISOString(),
              new Date(g.newestIngested).toISOString(),
            ]),
        },
      ],
    });
  };
  router.add("POST", /^(?:\/v1)?\/workspaces\/(?<workspaceId>[^/]+)\/query$/, (ctx) =>
    answer(ctx, "query"),
  );
  router.add("POST", /^(?:\/v1)?\/workspaces\/(?<workspaceId>[^/]+)\/search$/, (ctx) =>
    answer(ctx, "search"),
  );
}
