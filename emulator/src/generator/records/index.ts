import type { Rng } from "../prng";
import type { RecordBuilder, RecordContext } from "./common";
import { dlpRecord } from "./dlp";
import { entraRecord } from "./entra";
import { exchangeRecord } from "./exchange";
import { generalRecord } from "./general";
import { sharePointRecord } from "./sharepoint";

export { DLP_SENSITIVE_TYPES, type DlpSensitiveType } from "./dlp";

const BUILDERS: Record<string, RecordBuilder> = {
  "Audit.AzureActiveDirectory": entraRecord,
  "Audit.Exchange": exchangeRecord,
  "Audit.SharePoint": sharePointRecord,
  "Audit.General": generalRecord,
  "DLP.All": dlpRecord,
};

/**
 * How long before the blob's contentCreated each kind of record happened, in ms: the service's
 * typical 60-90 minute latency for Exchange, SharePoint and Teams, longer for other workloads
 * (https://learn.microsoft.com/en-us/office/office-365-management-api/troubleshooting-the-office-365-management-activity-api),
 * shorter for sign-ins. Drawn skewed towards the short end, 1 minute at least.
 */
const DELAY_SPAN_MS: Record<string, number> = {
  "Audit.AzureActiveDirectory": 2 * 3_600_000,
  "Audit.Exchange": 3 * 3_600_000,
  "Audit.SharePoint": 3 * 3_600_000,
  "Audit.General": 6 * 3_600_000,
  "DLP.All": 2 * 3_600_000,
};

/** Delay between a record's CreationTime and its blob's contentCreated. */
export function creationDelayMs(contentType: string, rng: Rng): number {
  const u = rng.float();
  return 60_000 + Math.floor(u * u * (DELAY_SPAN_MS[contentType] ?? 3_600_000));
}

/** Appends the members of one record of `contentType` to `ctx.fields`. */
export function buildRecord(contentType: string, ctx: RecordContext, rng: Rng): void {
  const builder = BUILDERS[contentType];
  if (builder === undefined)
    throw new Error(`generator: no record builder for content type "${contentType}"`);
  builder(ctx, rng);
}
