import { z } from "zod";
import { CONTENT_RETENTION_MS } from "../microsoft/activityApi";
import { CONTENT_TYPES, type ContentType, isContentType } from "../microsoft/contentTypes";

// The generator plans activity for the content types the emulator knows from Microsoft's docs.
export { CONTENT_TYPES, type ContentType, isContentType };

/** The API lists and serves only the last 7 days, so no scenario reaches further back. */
export const MAX_HISTORY_HOURS = CONTENT_RETENTION_MS / 3_600_000;

/** What the emulated tenant has been doing: volume, timing and the oddities a collector must survive. */
export interface ScenarioOptions {
  /** Content types that have activity; default all five. */
  contentTypes: string[];
  /** Blobs' contentCreated is spread over this many hours before startMs (at most 168); default 24. */
  historyHours: number;
  /** Blobs per hour per content type; default 4. */
  blobsPerHour: number;
  /** Records per blob, inclusive range (duplicates included); default [20, 200]. */
  recordsPerBlob: [number, number];
  /**
   * Fraction of records that are a repeat of an earlier record (same Id, sometimes different key
   * order), in a later blob or later in the same blob; default 0.02.
   */
  duplicateRate: number;
  /**
   * Fraction of blobs that become available after a blob created after them, so only a collector
   * that re-lists with overlap catches them; default 0.05.
   */
  lateRate: number;
  /** This many history blobs are listed but already expired at startMs (fetch → AF20051); default 0. */
  expiredBlobs: number;
  /** Blobs per minute per content type created after startMs (the live edge); default 0. */
  liveBlobsPerMinute: number;
  /** How far past startMs live blobs are planned, in minutes; default 60. */
  liveHorizonMinutes: number;
  /** 0 = none; otherwise one extra Audit.SharePoint blob of about this many bytes; default 0. */
  bigBlobBytes: number;
  /** Tenant GUID: OrganizationId of every record. */
  tenantId: string;
}

/** A synthetic tenant GUID used when the caller does not give one. */
export const DEFAULT_TENANT_ID = "5f0c3d7e-2a41-4b8e-9c6d-0e1f2a3b4c5d";

/** A day of ordinary activity in all five content types, with a few duplicates and late blobs. */
export const DEFAULT_SCENARIO: ScenarioOptions = Object.freeze({
  contentTypes: Object.freeze([...CONTENT_TYPES]) as unknown as string[],
  historyHours: 24,
  blobsPerHour: 4,
  recordsPerBlob: Object.freeze([20, 200]) as unknown as [number, number],
  duplicateRate: 0.02,
  lateRate: 0.05,
  expiredBlobs: 0,
  liveBlobsPerMinute: 0,
  liveHorizonMinutes: 60,
  bigBlobBytes: 0,
  tenantId: DEFAULT_TENANT_ID,
});

/** Largest blob a scenario may ask for; the body is streamed, but a benchmark should stay sane. */
const MAX_BIG_BLOB_BYTES = 2 * 1024 * 1024 * 1024;
/** Largest records-per-blob bound; real blobs hold up to a few thousand records. */
const MAX_RECORDS_PER_BLOB = 100_000;
const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const fraction = (what: string) =>
  z
    .number({ error: `must be a number between 0 and 1 (${what})` })
    .min(0, { error: `must be between 0 and 1 (${what})` })
    .max(1, { error: `must be between 0 and 1 (${what})` });

const wholeCount = (max: number) =>
  z
    .number({ error: "must be a whole number" })
    .int({ error: "must be a whole number" })
    .min(0, { error: "must not be negative" })
    .max(max, { error: `must be at most ${max}` });

const RECORDS_PER_BLOB_RULE = `must be [min, max] whole numbers with 1 <= min <= max <= ${MAX_RECORDS_PER_BLOB}`;
const recordBound = z
  .number({ error: RECORDS_PER_BLOB_RULE })
  .int({ error: RECORDS_PER_BLOB_RULE })
  .min(1, { error: RECORDS_PER_BLOB_RULE })
  .max(MAX_RECORDS_PER_BLOB, { error: RECORDS_PER_BLOB_RULE });

const scenarioSchema = z.strictObject({
  contentTypes: z
    .array(z.string({ error: "must be an array of content type names" }), {
      error: "must be an array of content type names",
    })
    .min(1, { error: "must name at least one content type" })
    .refine((types) => types.every(isContentType), {
      error: (issue) => {
        const bad = (issue.input as string[]).find((t) => !isContentType(t));
        return `unknown content type "${bad}" (use ${CONTENT_TYPES.join(", ")})`;
      },
    })
    .refine((types) => new Set(types).size === types.length, {
      error: "lists a content type twice",
    })
    .optional(),
  historyHours: z
    .number({ error: "must be a number of hours" })
    .min(0, { error: "must not be negative" })
    .max(MAX_HISTORY_HOURS, {
      error: `must be at most ${MAX_HISTORY_HOURS} (the API keeps 7 days of content)`,
    })
    .optional(),
  blobsPerHour: z
    .number({ error: "must be a number" })
    .gt(0, { error: "must be greater than 0" })
    .max(3600, { error: "must be at most 3600 (one blob a second)" })
    .optional(),
  recordsPerBlob: z
    .tuple([recordBound, recordBound], { error: RECORDS_PER_BLOB_RULE })
    .refine(([min, max]) => min <= max, { error: "min must not exceed max" })
    .optional(),
  duplicateRate: fraction("fraction of repeated records")
    .max(0.5, { error: "must be at most 0.5" })
    .optional(),
  lateRate: fraction("fraction of late blobs").optional(),
  expiredBlobs: wholeCount(1_000_000).optional(),
  liveBlobsPerMinute: z
    .number({ error: "must be a number" })
    .min(0, { error: "must not be negative" })
    .max(60, { error: "must be at most 60" })
    .optional(),
  liveHorizonMinutes: z
    .number({ error: "must be a number of minutes" })
    .gt(0, { error: "must be greater than 0" })
    .max(7 * 24 * 60, { error: "must be at most 10080 (7 days)" })
    .optional(),
  bigBlobBytes: wholeCount(MAX_BIG_BLOB_BYTES)
    .refine((bytes) => bytes === 0 || bytes >= 64 * 1024, {
      error: "must be 0 (none) or at least 65536",
    })
    .optional(),
  tenantId: z
    .string({ error: "must be a tenant GUID" })
    .regex(GUID_PATTERN, {
      error: "must be a tenant GUID like 00000000-0000-0000-0000-000000000000",
    })
    .optional(),
});

/** Number of history blobs a scenario plans per content type. */
export function historyBlobsPerType(s: ScenarioOptions): number {
  return Math.round(s.historyHours * s.blobsPerHour);
}

/** Number of live blobs a scenario plans per content type. */
export function liveBlobsPerType(s: ScenarioOptions): number {
  return Math.round(s.liveBlobsPerMinute * s.liveHorizonMinutes);
}

/**
 * Fills defaults into a partial scenario and checks it. Throws an Error with a one-line message
 * naming the bad key and what is allowed, e.g. `scenario.historyHours: must be at most 168 (...)`.
 */
export function validateScenario(s: Partial<ScenarioOptions>): ScenarioOptions {
  if (s === null || typeof s !== "object" || Array.isArray(s)) {
    throw new Error("scenario: must be an object of scenario options");
  }
  const parsed = scenarioSchema.safeParse(s);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === "unrecognized_keys") {
      throw new Error(
        `scenario: unknown key "${issue.keys[0]}" (known keys: ${Object.keys(DEFAULT_SCENARIO).join(", ")})`,
      );
    }
    const key = issue.path.length > 0 ? String(issue.path[0]) : "";
    throw new Error(`scenario.${key}: ${issue.message}`);
  }
  const given = parsed.data;
  const scenario: ScenarioOptions = {
    contentTypes: [...(given.contentTypes ?? DEFAULT_SCENARIO.contentTypes)],
    historyHours: given.historyHours ?? DEFAULT_SCENARIO.historyHours,
    blobsPerHour: given.blobsPerHour ?? DEFAULT_SCENARIO.blobsPerHour,
    recordsPerBlob: [...(given.recordsPerBlob ?? DEFAULT_SCENARIO.recordsPerBlob)] as [
      number,
      number,
    ],
    duplicateRate: given.duplicateRate ?? DEFAULT_SCENARIO.duplicateRate,
    lateRate: given.lateRate ?? DEFAULT_SCENARIO.lateRate,
    expiredBlobs: given.expiredBlobs ?? DEFAULT_SCENARIO.expiredBlobs,
    liveBlobsPerMinute: given.liveBlobsPerMinute ?? DEFAULT_SCENARIO.liveBlobsPerMinute,
    liveHorizonMinutes: given.liveHorizonMinutes ?? DEFAULT_SCENARIO.liveHorizonMinutes,
    bigBlobBytes: given.bigBlobBytes ?? DEFAULT_SCENARIO.bigBlobBytes,
    tenantId: (given.tenantId ?? DEFAULT_SCENARIO.tenantId).toLowerCase(),
  };
  const history = historyBlobsPerType(scenario) * scenario.contentTypes.length;
  if (scenario.expiredBlobs > history) {
    throw new Error(
      `scenario.expiredBlobs: ${scenario.expiredBlobs} is more than the ${history} history blobs this scenario plans (historyHours x blobsPerHour x content types)`,
    );
  }
  return scenario;
}
