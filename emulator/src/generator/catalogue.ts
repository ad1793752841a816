import { CONTENT_RETENTION_MS } from "../microsoft/activityApi";
import type { BlobGenerator, BlobPlan } from "./plan";
import { hashString, mix32, Rng } from "./prng";
import { bigBlobRecordCount, duplicateIndex } from "./render";
import {
  CONTENT_TYPES,
  type ContentType,
  historyBlobsPerType,
  liveBlobsPerType,
  type ScenarioOptions,
  validateScenario,
} from "./scenario";
import { buildTenant, type TenantModel } from "./tenant";

export type { BlobGenerator, BlobPlan, BlobProfile } from "./plan";

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

// Blobs can be fetched for 7 days after they became available.
export { CONTENT_RETENTION_MS };

/** An ordinary blob is listable this soon after its contentCreated. */
const AVAILABLE_DELAY_MS: [number, number] = [5_000, 2 * MINUTE_MS];
/** A late blob becomes listable this long after its contentCreated (at least). */
const LATE_DELAY_MS: [number, number] = [20 * MINUTE_MS, 150 * MINUTE_MS];
/** Duplicates point back at most this many blobs of the same content type. */
const DUPLICATE_LOOKBACK_BLOBS = 8;
/** Share of duplicates that repeat a record earlier in the same blob rather than an older blob. */
const SAME_BLOB_DUPLICATE_SHARE = 0.2;
/** Ordinal block of the big blob; content types use blocks 0..4. */
const BIG_BLOB_BLOCK = CONTENT_TYPES.length;

/** Every blob of a scenario, ordered by contentCreatedMs (then contentId). */
export interface Catalogue {
  readonly blobs: readonly BlobPlan[];
  get(contentId: string): BlobPlan | undefined;
  readonly scenario: ScenarioOptions;
  readonly seed: number;
  readonly startMs: number;
  readonly tenant: TenantModel;
}

/** `Audit.SharePoint` → `audit_sharepoint$Audit_SharePoint`, as observed in modern content ids. */
export function contentIdKey(contentType: string): string {
  const underscored = contentType.replace(/\./g, "_");
  return `${underscored.toLowerCase()}$${underscored}`;
}

const DAY_MS = 24 * HOUR_MS;
/** `yyyymmdd` by day number (Date#toISOString per blob would dominate planning). */
const compactDays = new Map<number, string>();

/** `yyyymmddHHMMSSfff` of an instant (UTC), the timestamp prefix of content ids. */
function compactStamp(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  let prefix = compactDays.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 10).replace(/-/g, "");
    compactDays.set(day, prefix);
  }
  const inDay = ms - day * DAY_MS;
  const clock =
    1e9 + Math.floor(inDay / HOUR_MS) * 1e7 + (Math.floor(inDay / MINUTE_MS) % 60) * 1e5;
  const rest = (Math.floor(inDay / 1000) % 60) * 1000 + (inDay % 1000);
  return `${prefix}${String(clock + rest).slice(1)}`;
}

function sixDigits(rng: Rng): string {
  return String(rng.int(0, 999_999)).padStart(6, "0");
}

/**
 * A blob plan. The generator state sits in a private field behind a prototype getter, so
 * JSON.stringify, spreading and test snapshots show only the blob's metadata.
 */
class Plan implements BlobPlan {
  contentType: string;
  contentId = "";
  contentCreatedMs: number;
  availableAtMs: number;
  expirationMs: number;
  recordCount: number;
  late = false;
  expired = false;
  live: boolean;
  big: boolean;
  readonly #gen: BlobGenerator;

  constructor(
    fields: Omit<BlobPlan, "gen" | "contentId" | "late" | "expired">,
    gen: BlobGenerator,
  ) {
    this.contentType = fields.contentType;
    this.contentCreatedMs = fields.contentCreatedMs;
    this.availableAtMs = fields.availableAtMs;
    this.expirationMs = fields.expirationMs;
    this.recordCount = fields.recordCount;
    this.live = fields.live;
    this.big = fields.big;
    this.#gen = gen;
  }

  get gen(): BlobGenerator {
    return this.#gen;
  }
}

function newPlan(
  fields: Omit<BlobPlan, "gen" | "contentId" | "late" | "expired">,
  gen: BlobGenerator,
): BlobPlan {
  return new Plan(fields, gen);
}

/** Shared by every blob without repeats (never mutated: planning replaces, not fills, them). */
const NO_SLOTS = new Int32Array(0);
const NO_FLAGS = new Uint8Array(0);
const NO_ORIGINS: BlobPlan[] = [];

function emptyDuplicates(): Pick<
  BlobGenerator,
  "dupSlots" | "dupOrigins" | "dupOriginSlots" | "dupReordered"
> {
  return {
    dupSlots: NO_SLOTS,
    dupOrigins: NO_ORIGINS,
    dupOriginSlots: NO_SLOTS,
    dupReordered: NO_FLAGS,
  };
}

/** Follows a repeat back to the blob and slot where the record is original. */
function resolveOrigin(plan: BlobPlan, slot: number): [BlobPlan, number] {
  const i = duplicateIndex(plan.gen, slot);
  if (i < 0) return [plan, slot];
  return [plan.gen.dupOrigins[i]!, plan.gen.dupOriginSlots[i]!];
}

/**
 * Picks which slots of each blob repeat an earlier record. Gaps between repeats are geometric,
 * so planning costs O(repeats), not O(records).
 */
function planDuplicates(blobs: BlobPlan[], rate: number, rng: Rng): void {
  if (!(rate > 0)) return;
  const logKeep = Math.log(1 - rate);
  const nextGap = () => Math.floor(Math.log(1 - rng.float()) / logKeep);
  for (let b = 0; b < blobs.length; b++) {
    const plan = blobs[b]!;
    const slots: number[] = [];
    const origins: BlobPlan[] = [];
    const originSlots: number[] = [];
    const reordered: number[] = [];
    const firstOlder = Math.max(0, b - DUPLICATE_LOOKBACK_BLOBS);
    for (let slot = nextGap(); slot < plan.recordCount; slot += 1 + nextGap()) {
      const sameBlob = slot > 0 && (b === firstOlder || rng.chance(SAME_BLOB_DUPLICATE_SHARE));
      if (!sameBlob && b === firstOlder) continue;
      let origin: [BlobPlan, number];
      if (sameBlob) {
        // Resolve against the repeats planned so far in this blob (they are all before `slot`).
        const target = rng.int(0, slot - 1);
        const k = slots.lastIndexOf(target);
        origin = k >= 0 ? [origins[k]!, originSlots[k]!] : [plan, target];
      } else {
        const older = blobs[rng.int(firstOlder, b - 1)]!;
        origin = resolveOrigin(older, rng.int(0, older.recordCount - 1));
      }
      slots.push(slot);
      origins.push(origin[0]);
      originSlots.push(origin[1]);
      reordered.push(rng.chance(0.5) ? 1 : 0);
    }
    if (slots.length === 0) continue;
    plan.gen.dupSlots = Int32Array.from(slots);
    plan.gen.dupOrigins = origins;
    plan.gen.dupOriginSlots = Int32Array.from(originSlots);
    plan.gen.dupReordered = Uint8Array.from(reordered);
  }
}

/**
 * Marks about `rate` of a content type's blobs late: each becomes available after the next blob
 * created after it. Two neighbours are never both late, so "late" always means "listed after a
 * younger blob"; hence at most half the blobs can be late.
 */
function planLateness(blobs: BlobPlan[], rate: number, rng: Rng): void {
  const eligible = blobs.length - 1;
  if (!(rate > 0) || eligible < 1) return;
  const wanted = Math.min(Math.round(rate * blobs.length), Math.ceil(eligible / 2));
  const order = new Int32Array(eligible);
  for (let i = 0; i < eligible; i++) order[i] = i;
  let marked = 0;
  for (let i = 0; i < eligible && marked < wanted; i++) {
    const j = i + Math.floor(rng.float() * (eligible - i));
    const candidate = order[j]!;
    order[j] = order[i]!;
    order[i] = candidate;
    const plan = blobs[candidate]!;
    if (plan.big || blobs[candidate + 1]!.late || (candidate > 0 && blobs[candidate - 1]!.late)) {
      continue;
    }
    plan.late = true;
    marked++;
  }
  for (let i = 0; i < eligible; i++) {
    const plan = blobs[i]!;
    if (!plan.late) continue;
    const next = blobs[i + 1]!;
    plan.availableAtMs = Math.max(
      plan.contentCreatedMs + rng.int(LATE_DELAY_MS[0], LATE_DELAY_MS[1]),
      next.availableAtMs + rng.int(MINUTE_MS, 10 * MINUTE_MS),
    );
  }
}

/** Places `count` blobs evenly with jitter over [fromMs, fromMs + spanMs). */
function spread(count: number, fromMs: number, spanMs: number, rng: Rng): number[] {
  const interval = spanMs / count;
  const times: number[] = [];
  for (let k = 0; k < count; k++) {
    times.push(Math.floor(fromMs + (k + 0.05 + 0.9 * rng.float()) * interval));
  }
  return times;
}

/**
 * Plans every blob of a scenario: times, availability, expiry, record counts, duplicates.
 * Deterministic in (scenario, seed, startMs); holds no record bodies, so a million records plan in
 * milliseconds. Throws a one-line error for an invalid scenario.
 */
export function buildCatalogue(
  scenarioInput: Partial<ScenarioOptions>,
  seed: number,
  startMs: number,
): Catalogue {
  if (!Number.isInteger(seed))
    throw new Error(`buildCatalogue: seed must be an integer, got ${seed}`);
  if (!Number.isFinite(startMs)) {
    throw new Error(`buildCatalogue: startMs must be epoch milliseconds, got ${startMs}`);
  }
  const scenario = validateScenario(scenarioInput);
  const tenantHash = hashString(scenario.tenantId);
  const startHi = Math.floor(startMs / 2 ** 32);
  const stream = mix32(seed, startHi, startMs >>> 0, tenantHash);
  const tenant = buildTenant(scenario.tenantId, seed);
  const historyMs = scenario.historyHours * HOUR_MS;
  const [minRecords, maxRecords] = scenario.recordsPerBlob;
  const all: BlobPlan[] = [];

  for (const contentType of scenario.contentTypes as ContentType[]) {
    const block = CONTENT_TYPES.indexOf(contentType);
    const rng = new Rng(stream, block, 0x7107, seed);
    const created = [
      ...(historyBlobsPerType(scenario) > 0
        ? spread(historyBlobsPerType(scenario), startMs - historyMs, historyMs, rng)
        : []),
      ...(liveBlobsPerType(scenario) > 0
        ? spread(
            liveBlobsPerType(scenario),
            startMs + 1,
            scenario.liveHorizonMinutes * MINUTE_MS,
            rng,
          )
        : []),
    ];
    const blobs = created.map((createdMs, k) =>
      newPlan(
        {
          contentType,
          contentCreatedMs: createdMs,
          availableAtMs: createdMs + rng.int(AVAILABLE_DELAY_MS[0], AVAILABLE_DELAY_MS[1]),
          expirationMs: createdMs + CONTENT_RETENTION_MS,
          recordCount: rng.int(minRecords, maxRecords),
          live: createdMs > startMs,
          big: false,
        },
        {
          stream,
          ordinal: block * 2 ** 24 + k,
          tenant,
          profile: "mixed",
          ...emptyDuplicates(),
        },
      ),
    );
    planLateness(blobs, scenario.lateRate, rng);
    planDuplicates(blobs, scenario.duplicateRate, rng);
    all.push(...blobs);
  }

  const extraRng = new Rng(stream, BIG_BLOB_BLOCK, 0xe1, seed);
  planExpiry(all, scenario.expiredBlobs, startMs, extraRng);
  if (scenario.bigBlobBytes > 0) {
    all.push(planBigBlob(scenario, stream, tenant, startMs, extraRng));
  }
  assignContentIds(all, tenant.region, extraRng);

  all.sort((x, y) =>
    x.contentCreatedMs !== y.contentCreatedMs
      ? x.contentCreatedMs - y.contentCreatedMs
      : x.contentId < y.contentId
        ? -1
        : 1,
  );
  const byId = new Map(all.map((plan) => [plan.contentId, plan]));
  return Object.freeze({
    blobs: Object.freeze(all),
    get: (contentId: string) => byId.get(contentId),
    scenario,
    seed,
    startMs,
    tenant,
  });
}

/** Expires `count` history blobs before startMs (only blobs already available a minute before). */
function planExpiry(blobs: BlobPlan[], count: number, startMs: number, rng: Rng): void {
  if (count === 0) return;
  const candidates = blobs.filter((b) => !b.live && b.availableAtMs < startMs - MINUTE_MS);
  if (candidates.length < count) {
    throw new Error(
      `scenario.expiredBlobs: only ${candidates.length} history blobs are available before startMs, ${count} requested`,
    );
  }
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng.float() * (candidates.length - i));
    const plan = candidates[j]!;
    candidates[j] = candidates[i]!;
    candidates[i] = plan;
    const lo = plan.availableAtMs + 1_000;
    const hi = startMs - 1_000;
    plan.expirationMs = hi - Math.floor(rng.float() * Math.min(6 * HOUR_MS, hi - lo));
    plan.expired = true;
  }
}

function planBigBlob(
  scenario: ScenarioOptions,
  stream: number,
  tenant: TenantModel,
  startMs: number,
  rng: Rng,
): BlobPlan {
  const historyMs = scenario.historyHours * HOUR_MS;
  const createdMs =
    historyMs > 0
      ? Math.floor(startMs - historyMs + (0.1 + 0.8 * rng.float()) * historyMs)
      : startMs - 10 * MINUTE_MS;
  const plan = newPlan(
    {
      contentType: "Audit.SharePoint",
      contentCreatedMs: createdMs,
      availableAtMs: createdMs + rng.int(AVAILABLE_DELAY_MS[0], AVAILABLE_DELAY_MS[1]),
      expirationMs: createdMs + CONTENT_RETENTION_MS,
      recordCount: 1,
      live: false,
      big: true,
    },
    { stream, ordinal: BIG_BLOB_BLOCK * 2 ** 24, tenant, profile: "bulk", ...emptyDuplicates() },
  );
  plan.recordCount = bigBlobRecordCount(plan, scenario.bigBlobBytes);
  return plan;
}

function assignContentIds(blobs: BlobPlan[], region: string, rng: Rng): void {
  const seen = new Set<string>();
  const suffixes = new Map<string, string>();
  for (const plan of blobs) {
    let suffix = suffixes.get(plan.contentType);
    if (suffix === undefined) {
      suffix = `$${contentIdKey(plan.contentType)}$${region}`;
      suffixes.set(plan.contentType, suffix);
    }
    let id: string;
    do {
      id = `${compactStamp(plan.contentCreatedMs)}${sixDigits(rng)}$${compactStamp(plan.availableAtMs)}${sixDigits(rng)}${suffix}`;
    } while (seen.has(id));
    seen.add(id);
    plan.contentId = id;
  }
}
