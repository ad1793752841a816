import { randomUUID } from "node:crypto";
import { MONITOR_AUDIENCES, normalizeAudience } from "./audiences";
import {
  BadEncodingError,
  BodyTooLargeError,
  delay,
  type RequestContext,
  type Router,
  readBody,
  sendEmpty,
  sendJson,
} from "./http";
import { bearerToken } from "./jwt";
import {
  EMULATED_STREAM_NAME,
  EMULATED_TABLE_COLUMNS,
  INGESTION_API_VERSION,
  MAX_INGESTION_BODY_BYTES,
} from "./microsoft/logsIngestion";
import type { EmulatorState } from "./state";

/**
 * Emulated Logs Ingestion API
 * (https://learn.microsoft.com/en-us/azure/azure-monitor/logs/logs-ingestion-api-overview): one
 * data collection rule whose stream declares exactly the AuditBridge table columns. Accepted rows
 * are kept in memory for read-back by tests, verify (through the query endpoint) and the demo.
 */

// Microsoft's limits live with the other facts; re-exported so callers keep one import.
export { INGESTION_API_VERSION, MAX_INGESTION_BODY_BYTES };
/**
 * Largest body after gunzip. The SDK sizes its chunks by the JSON text of the records, before
 * brackets and commas, so a full chunk decodes to slightly more than 1,000,000 bytes; 1 MiB
 * accepts those and still refuses anything really oversized.
 */
export const MAX_DECODED_INGESTION_BYTES = 1_048_576;

/** One row received by the Logs Ingestion endpoint. */
export interface IngestedRow {
  /** Stream the row was posted to, e.g. "Custom-M365Audit". */
  stream: string;
  /** Data collection rule immutable id. */
  ruleId: string;
  /** When the emulator accepted the row (its ingestion_time()), epoch ms. */
  ingestedAtMs: number;
  /** The row as parsed from the request. */
  row: Record<string, unknown>;
}

/** The emulated data collection rule. */
export interface IngestionTarget {
  ruleId: string;
  stream: string;
  workspaceId: string;
}

const DECLARED_COLUMNS: ReadonlySet<string> = new Set(
  EMULATED_TABLE_COLUMNS.map((column) => column.name),
);

function ingestionError(
  ctx: RequestContext,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(
    ctx,
    status,
    { error: { code, message } },
    { "x-ms-request-id": randomUUID(), ...headers },
  );
}

/** Registers the Logs Ingestion route; accepted rows go to `rows`. */
export function registerIngestion(
  router: Router,
  state: EmulatorState,
  target: IngestionTarget,
  rows: IngestedRow[],
): void {
  router.add(
    "POST",
    /^\/dataCollectionRules\/(?<ruleId>[^/]+)\/streams\/(?<stream>[^/]+)$/,
    async (ctx) => {
      const { knobs, counters } = state;
      await delay(knobs.latencyMs);
      counters.ingestionRequests++;
      const reject = (
        status: number,
        code: string,
        message: string,
        headers: Record<string, string> = {},
      ) => {
        counters.ingestionRejected++;
        ctx.req.resume();
        ingestionError(ctx, status, code, message, headers);
      };

      const check = state.signer.verify(bearerToken(ctx.req.headers.authorization), state.now());
      if (!check.ok) {
        return reject(
          401,
          "InvalidAuthenticationToken",
          `The access token is ${check.problem === "missing" ? "missing" : `invalid (${check.problem})`}.`,
          {
            "WWW-Authenticate": 'Bearer error="invalid_token"',
          },
        );
      }
      if (!MONITOR_AUDIENCES.has(normalizeAudience(check.claims.aud))) {
        return reject(
          401,
          "InvalidAuthenticationTokenAudience",
          `The access token audience '${check.claims.aud}' is not https://monitor.azure.com.`,
        );
      }
      if (check.claims.tid !== state.tenant.tenantId) {
        return reject(
          401,
          "InvalidAuthenticationTokenTenant",
          `The access token is from tenant '${check.claims.tid}', not the data collection rule's tenant.`,
        );
      }
      const apiVersion = ctx.url.searchParams.get("api-version");
      if (apiVersion !== INGESTION_API_VERSION) {
        return reject(
          400,
          "InvalidApiVersion",
          `api-version must be ${INGESTION_API_VERSION}, got '${apiVersion ?? ""}'.`,
        );
      }
      if (ctx.params.ruleId !== target.ruleId) {
        return reject(
          404,
          "NotFound",
          `Data collection rule with immutable Id '${ctx.params.ruleId}' not found.`,
        );
      }
      if (ctx.params.stream !== target.stream) {
        return reject(
          400,
          "InvalidStream",
          `Stream '${ctx.params.stream}' is not declared in data collection rule '${target.ruleId}' (declared: ${target.stream}).`,
        );
      }
      if (knobs.ingestionOutage) {
        return reject(503, "ServiceUnavailable", "The service is temporarily unavailable.");
      }
      const throttle = knobs.ingestionThrottle;
      if (throttle && throttle.count > 0) {
        throttle.count--;
        const headers: Record<string, string> = {};
        if (throttle.retryAfterSeconds !== undefined)
          headers["Retry-After"] = String(throttle.retryAfterSeconds);
        return reject(
          429,
          "TooManyRequests",
          "Too many requests for this data collection rule. Retry later.",
          headers,
        );
      }

      let body: Buffer;
      try {
        body = await readBody(ctx.req, {
          maxWireBytes: MAX_INGESTION_BODY_BYTES,
          maxDecodedBytes: MAX_DECODED_INGESTION_BYTES,
          gunzip: true,
        });
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          ctx.res.setHeader("Connection", "close");
          return reject(
            413,
            "ContentLengthLimitExceeded",
            `The ${error.what} exceeds the ${error.limitBytes}-byte limit of one Logs Ingestion call; send smaller batches.`,
          );
        }
        if (error instanceof BadEncodingError)
          return reject(400, "InvalidContentEncoding", error.message);
        throw error;
      }

      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString("utf8"));
      } catch (error) {
        return reject(
          400,
          "InvalidPayload",
          `The request body is not valid JSON: ${(error as Error).message}`,
        );
      }
      if (!Array.isArray(parsed)) {
        return reject(400, "InvalidPayload", "The request body must be a JSON array of objects.");
      }
      for (let i = 0; i < parsed.length; i++) {
        const row = parsed[i] as unknown;
        if (row === null || typeof row !== "object" || Array.isArray(row)) {
          return reject(400, "InvalidPayload", `Row ${i} is not a JSON object.`);
        }
        for (const key of Object.keys(row)) {
          if (!DECLARED_COLUMNS.has(key)) {
            return reject(
              400,
              "InvalidStreamColumn",
              `Row ${i} has column '${key}', which stream ${target.stream} does not declare.`,
            );
          }
        }
      }
      const ingestedAtMs = state.now();
      for (const row of parsed as Record<string, unknown>[]) {
        rows.push({ stream: target.stream, ruleId: target.ruleId, ingestedAtMs, row });
      }
      counters.ingestedRows += parsed.length;
      sendEmpty(ctx, 204, { "x-ms-request-id": randomUUID() });
    },
  );
}

/** The stream name the emulated rule declares. */
export const EMULATED_STREAM = EMULATED_STREAM_NAME;
