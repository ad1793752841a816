import { describe, expect, it } from "vitest";
import {
  type BlobPlan,
  blobRecordIds,
  buildCatalogue,
  CHUNK_CHARS,
  CONTENT_TYPES,
  DEFAULT_SCENARIO,
  DLP_SENSITIVE_TYPES,
  renderBlob,
  validateScenario,
} from "../../emulator/src/generator";

type AuditRecord = Record<string, unknown>;

const START_MS = Date.UTC(2026, 10, 27, 12, 0, 0);
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const WIRE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

function body(plan: BlobPlan): string {
  return [...renderBlob(plan)].join("");
}

function records(plan: BlobPlan): AuditRecord[] {
  return JSON.parse(body(plan)) as AuditRecord[];
}

/**
 * RecordType and Workload values each content type may carry:
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#working-with-the-office-365-management-activity-api
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-schema ("Enum: AuditLogRecordType")
 */
const EXPECTED: Record<string, { recordTypes: number[]; workloads: string[] }> = {
  "Audit.AzureActiveDirectory": { recordTypes: [8, 15], workloads: ["AzureActiveDirectory"] },
  "Audit.Exchange": { recordTypes: [1, 2, 3, 50], workloads: ["Exchange"] },
  "Audit.SharePoint": { recordTypes: [4, 6, 14, 36], workloads: ["SharePoint", "OneDrive"] },
  "Audit.General": {
    recordTypes: [20, 22, 25, 66, 261],
    workloads: ["MicrosoftTeams", "PowerBI", "Yammer", "MicrosoftForms", "Copilot"],
  },
  "DLP.All": { recordTypes: [11, 13], workloads: ["Exchange", "SharePoint", "OneDrive"] },
};

describe("buildCatalogue and renderBlob", () => {
  it("render byte-identical blobs from the same seed, scenario and start", () => {
    const a = buildCatalogue({ historyHours: 3 }, 42, START_MS);
    const b = buildCatalogue({ historyHours: 3 }, 42, START_MS);
    expect(b.blobs.map((p) => p.contentId)).toEqual(a.blobs.map((p) => p.contentId));
    for (const plan of a.blobs.filter((_, i) => i % 7 === 0)) {
      expect(body(b.get(plan.contentId)!)).toBe(body(plan));
    }
    const other = buildCatalogue({ historyHours: 3 }, 43, START_MS);
    expect(blobRecordIds(other.blobs[0]!)).not.toEqual(blobRecordIds(a.blobs[0]!));
  });

  it("list the Ids that renderBlob writes, in body order, duplicates included", () => {
    const catalogue = buildCatalogue({ historyHours: 2, duplicateRate: 0.1 }, 7, START_MS);
    let withRepeats = 0;
    for (const plan of catalogue.blobs) {
      const ids = blobRecordIds(plan);
      expect(ids).toHaveLength(plan.recordCount);
      expect(records(plan).map((r) => r.Id)).toEqual(ids);
      if (new Set(ids).size < ids.length) withRepeats++;
    }
    expect(withRepeats).toBeGreaterThan(0);
  });

  it("give every content type valid JSON records with the right RecordType, Workload and common schema", () => {
    const catalogue = buildCatalogue({ historyHours: 3 }, 3, START_MS);
    for (const contentType of CONTENT_TYPES) {
      const plans = catalogue.blobs.filter((p) => p.contentType === contentType);
      expect(plans.length).toBeGreaterThan(0);
      const seenTypes = new Set<number>();
      const seenWorkloads = new Set<unknown>();
      const problems: string[] = [];
      for (const plan of plans) {
        for (const record of records(plan)) {
          seenTypes.add(Number(record.RecordType));
          seenWorkloads.add(record.Workload);
          if (
            !GUID.test(String(record.Id)) ||
            !WIRE_TIME.test(String(record.CreationTime)) ||
            record.OrganizationId !== DEFAULT_SCENARIO.tenantId ||
            typeof record.Operation !== "string" ||
            typeof record.UserType !== "number" ||
            typeof record.UserKey !== "string" ||
            typeof record.UserId !== "string" ||
            record.Version !== 1
          ) {
            problems.push(JSON.stringify(record).slice(0, 300));
          }
        }
      }
      expect(problems).toEqual([]);
      expect([...seenTypes].sort((a, b) => a - b)).toEqual(EXPECTED[contentType]!.recordTypes);
      expect([...seenWorkloads].sort()).toEqual([...EXPECTED[contentType]!.workloads].sort());
    }
  });

  it("date records between one minute and a few hours before their blob's contentCreated", () => {
    const catalogue = buildCatalogue({ historyHours: 2 }, 5, START_MS);
    const delays: number[] = [];
    for (const plan of catalogue.blobs) {
      for (const record of records(plan)) {
        delays.push(plan.contentCreatedMs - Date.parse(`${record.CreationTime as string}Z`));
      }
    }
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(MINUTE_MS - 1000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(7 * HOUR_MS);
    expect(Math.max(...delays)).toBeGreaterThan(HOUR_MS);
  });

  it("repeat records at about duplicateRate, later than the original and with the same content", () => {
    const catalogue = buildCatalogue({ historyHours: 12, duplicateRate: 0.05 }, 11, START_MS);
    const firstSeen = new Map<string, { plan: BlobPlan; index: number }>();
    let total = 0;
    let repeats = 0;
    let misplaced = 0;
    const repeatedIds: [string, BlobPlan][] = [];
    for (const plan of catalogue.blobs) {
      blobRecordIds(plan).forEach((id, index) => {
        total++;
        const origin = firstSeen.get(id);
        if (origin === undefined) {
          firstSeen.set(id, { plan, index });
          return;
        }
        repeats++;
        if (
          origin.plan.contentType !== plan.contentType ||
          origin.plan.contentCreatedMs > plan.contentCreatedMs
        ) {
          misplaced++;
        }
        if (repeatedIds.length < 40) repeatedIds.push([id, plan]);
      });
    }
    expect(misplaced).toBe(0);
    expect(repeats / total).toBeGreaterThan(0.04);
    expect(repeats / total).toBeLessThan(0.06);
    let reordered = 0;
    for (const [id, plan] of repeatedIds) {
      const origin = firstSeen.get(id)!;
      const originalText = JSON.stringify(records(origin.plan)[origin.index]);
      const copies = records(plan).filter((r) => r.Id === id);
      for (const copy of copies) {
        const sorted = (r: AuditRecord) =>
          JSON.stringify(
            Object.fromEntries(Object.entries(r).sort(([x], [y]) => (x < y ? -1 : 1))),
          );
        expect(sorted(copy)).toBe(sorted(JSON.parse(originalText) as AuditRecord));
        if (JSON.stringify(copy) !== originalText) reordered++;
      }
    }
    expect(reordered).toBeGreaterThan(0);
  });

  it("never repeat an Id by accident: unique Ids equal the records that are not repeats", () => {
    const catalogue = buildCatalogue({ duplicateRate: 0 }, 1, START_MS);
    const ids = new Set<string>();
    let total = 0;
    for (const plan of catalogue.blobs) {
      for (const id of blobRecordIds(plan)) ids.add(id);
      total += plan.recordCount;
    }
    expect(ids.size).toBe(total);
  });

  it("make late blobs available after a blob of their content type created after them", () => {
    const catalogue = buildCatalogue({ historyHours: 24, lateRate: 0.1 }, 9, START_MS);
    for (const contentType of CONTENT_TYPES) {
      const plans = catalogue.blobs.filter((p) => p.contentType === contentType);
      const late = plans.filter((p) => p.late);
      expect(late.length).toBe(Math.round(0.1 * plans.length));
      for (const plan of late) {
        const overtaken = plans.some(
          (other) =>
            other.contentCreatedMs > plan.contentCreatedMs &&
            other.availableAtMs < plan.availableAtMs,
        );
        expect(overtaken).toBe(true);
        expect(plan.availableAtMs - plan.contentCreatedMs).toBeGreaterThanOrEqual(20 * MINUTE_MS);
      }
      for (const plan of plans.filter((p) => !p.late)) {
        expect(plan.availableAtMs).toBeGreaterThan(plan.contentCreatedMs);
        expect(plan.availableAtMs - plan.contentCreatedMs).toBeLessThanOrEqual(2 * MINUTE_MS);
      }
    }
  });

  it("expire exactly expiredBlobs listed blobs before startMs and keep 7 days for the rest", () => {
    const catalogue = buildCatalogue({ historyHours: 6, expiredBlobs: 5 }, 2, START_MS);
    const expired = catalogue.blobs.filter((p) => p.expirationMs < START_MS);
    expect(expired).toHaveLength(5);
    for (const plan of expired) {
      expect(plan.expired).toBe(true);
      expect(plan.expirationMs).toBeGreaterThan(plan.availableAtMs);
    }
    for (const plan of catalogue.blobs.filter((p) => !p.expired)) {
      expect(plan.expirationMs - plan.contentCreatedMs).toBe(7 * DAY_MS);
    }
  });

  it("plan live blobs after startMs up to the horizon, and history blobs before it", () => {
    const catalogue = buildCatalogue(
      { historyHours: 1, liveBlobsPerMinute: 0.5, liveHorizonMinutes: 30 },
      4,
      START_MS,
    );
    const live = catalogue.blobs.filter((p) => p.live);
    expect(live).toHaveLength(15 * CONTENT_TYPES.length);
    for (const plan of live) {
      expect(plan.contentCreatedMs).toBeGreaterThan(START_MS);
      expect(plan.contentCreatedMs).toBeLessThanOrEqual(START_MS + 30 * MINUTE_MS);
    }
    for (const plan of catalogue.blobs.filter((p) => !p.live)) {
      expect(plan.contentCreatedMs).toBeLessThan(START_MS);
      expect(plan.contentCreatedMs).toBeGreaterThanOrEqual(START_MS - HOUR_MS);
    }
  });

  it("name blobs with unique content ids in the modern observed shape", () => {
    const catalogue = buildCatalogue({ historyHours: 3 }, 6, START_MS);
    const ids = new Set(catalogue.blobs.map((p) => p.contentId));
    expect(ids.size).toBe(catalogue.blobs.length);
    for (const plan of catalogue.blobs) {
      const key = plan.contentType.replace(".", "_");
      const [created, available, lower, upper, shard] = plan.contentId.split("$");
      expect(created).toMatch(/^\d{23}$/);
      expect(available).toMatch(/^\d{23}$/);
      expect(created!.slice(0, 17)).toBe(
        new Date(plan.contentCreatedMs).toISOString().replace(/[-T:.Z]/g, ""),
      );
      expect(lower).toBe(key.toLowerCase());
      expect(upper).toBe(key);
      expect(shard).toMatch(/^[a-z]+\d{4}$/);
      expect(catalogue.get(plan.contentId)).toBe(plan);
    }
    expect(catalogue.get("nope")).toBeUndefined();
    const sorted = [...catalogue.blobs].sort((x, y) => x.contentCreatedMs - y.contentCreatedMs);
    expect(catalogue.blobs.map((p) => p.contentId)).toEqual(sorted.map((p) => p.contentId));
  });

  it("yield a blob body in chunks of about 64 KB that hold whole records", () => {
    const catalogue = buildCatalogue(
      { contentTypes: ["Audit.SharePoint"], historyHours: 1, recordsPerBlob: [1500, 1500] },
      8,
      START_MS,
    );
    const chunks = [...renderBlob(catalogue.blobs[0]!)];
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk.length).toBeGreaterThanOrEqual(CHUNK_CHARS);
      expect(chunk.length).toBeLessThan(CHUNK_CHARS + 70_000);
    }
    expect(chunks[0]!.startsWith("[{")).toBe(true);
    expect(chunks[1]!.startsWith(",{")).toBe(true);
    expect(chunks.at(-1)!.endsWith("}]")).toBe(true);
    expect(JSON.parse(chunks.join(""))).toHaveLength(1500);
  });

  it("size the big Audit.SharePoint blob within 5% of bigBlobBytes", () => {
    const target = 8 * 1024 * 1024;
    const catalogue = buildCatalogue({ historyHours: 1, bigBlobBytes: target }, 12, START_MS);
    const big = catalogue.blobs.filter((p) => p.big);
    expect(big).toHaveLength(1);
    expect(big[0]!.contentType).toBe("Audit.SharePoint");
    let bytes = 0;
    for (const chunk of renderBlob(big[0]!)) bytes += Buffer.byteLength(chunk);
    expect(Math.abs(bytes - target) / target).toBeLessThan(0.05);
  });

  it("include the oddities a collector must survive", () => {
    const catalogue = buildCatalogue({ historyHours: 6 }, 2, START_MS);
    const sizes: number[] = [];
    let stringRecordType = 0;
    let ipWithPort = 0;
    let bracketedIpv6 = 0;
    let nullEntraIp = 0;
    let overFieldLimit = 0;
    let nonAscii = 0;
    for (const plan of catalogue.blobs) {
      const text = body(plan);
      if (Buffer.byteLength(text) !== text.length) nonAscii++;
      for (const record of JSON.parse(text) as AuditRecord[]) {
        const size = JSON.stringify(record).length;
        sizes.push(size);
        if (size > 64 * 1024) overFieldLimit++;
        if (typeof record.RecordType === "string") stringRecordType++;
        const ip = record.ClientIP;
        if (typeof ip === "string" && /^\d+\.\d+\.\d+\.\d+:\d+$/.test(ip)) ipWithPort++;
        if (typeof ip === "string" && /^\[[0-9a-f:]+\]:\d+$/.test(ip)) bracketedIpv6++;
        if (ip === null && record.Workload === "AzureActiveDirectory") nullEntraIp++;
      }
    }
    sizes.sort((a, b) => a - b);
    const median = sizes[Math.floor(sizes.length / 2)]!;
    expect(median).toBeGreaterThan(900);
    expect(median).toBeLessThan(3000);
    expect(sizes[Math.floor(sizes.length * 0.99)]!).toBeGreaterThan(4000);
    expect(overFieldLimit).toBeGreaterThan(0);
    expect(stringRecordType).toBeGreaterThan(0);
    expect(ipWithPort).toBeGreaterThan(0);
    expect(bracketedIpv6).toBeGreaterThan(0);
    expect(nullEntraIp).toBeGreaterThan(0);
    expect(nonAscii).toBeGreaterThan(0);
  });

  it("refer DLP detections only to sensitive types the emulator can resolve", () => {
    const catalogue = buildCatalogue({ contentTypes: ["DLP.All"], historyHours: 2 }, 1, START_MS);
    const known = new Set(DLP_SENSITIVE_TYPES.map((t) => t.id));
    let matches = 0;
    for (const plan of catalogue.blobs) {
      for (const record of records(plan)) {
        expect(typeof record.SensitiveInfoDetectionIsIncluded).toBe("boolean");
        expect(record.ExchangeMetaData ?? record.SharePointMetaData).toBeDefined();
        const types =
          JSON.stringify(record.PolicyDetails).match(/"SensitiveType":"([^"]+)"/g) ?? [];
        for (const match of types) expect(known.has(match.slice(17, -1))).toBe(true);
        if (record.Operation === "DlpRuleMatch") matches++;
      }
    }
    expect(matches).toBeGreaterThan(0);
  });

  it("plan a million records quickly without holding record bodies", () => {
    const started = performance.now();
    const catalogue = buildCatalogue(
      { historyHours: 168, blobsPerHour: 12, recordsPerBlob: [100, 140] },
      1,
      START_MS,
    );
    const elapsedMs = performance.now() - started;
    const total = catalogue.blobs.reduce((sum, p) => sum + p.recordCount, 0);
    expect(total).toBeGreaterThan(1_000_000);
    // Well under a second on an idle core; the bound leaves room for a busy CI machine.
    expect(elapsedMs).toBeLessThan(5000);
    expect(JSON.stringify(catalogue.blobs[0]).length).toBeLessThan(600);
  });

  it("reject a plan copied out of the catalogue with a clear message", () => {
    const catalogue = buildCatalogue({ historyHours: 1 }, 1, START_MS);
    const copy = { ...catalogue.blobs[0]! };
    expect(() => blobRecordIds(copy)).toThrow(/pass a BlobPlan taken from buildCatalogue/);
    expect(() => [...renderBlob(copy)]).toThrow(/pass a BlobPlan taken from buildCatalogue/);
  });
});

describe("validateScenario", () => {
  it("fills every default", () => {
    expect(validateScenario({})).toEqual(DEFAULT_SCENARIO);
    expect(validateScenario({ historyHours: 2 }).historyHours).toBe(2);
  });

  it.each([
    [{ historyHours: 200 }, /^scenario\.historyHours: must be at most 168/],
    [{ contentTypes: ["Audit.Foo"] }, /^scenario\.contentTypes: unknown content type "Audit\.Foo"/],
    [{ contentTypes: [] }, /^scenario\.contentTypes: must name at least one/],
    [
      { recordsPerBlob: [5, 1] as [number, number] },
      /^scenario\.recordsPerBlob: min must not exceed max/,
    ],
    [
      { recordsPerBlob: [0, 10] as [number, number] },
      /^scenario\.recordsPerBlob: must be \[min, max\]/,
    ],
    [{ duplicateRate: 2 }, /^scenario\.duplicateRate: must be/],
    [{ lateRate: -0.1 }, /^scenario\.lateRate: must be between 0 and 1/],
    [{ blobsPerHour: 0 }, /^scenario\.blobsPerHour: must be greater than 0/],
    [{ expiredBlobs: 1.5 }, /^scenario\.expiredBlobs: must be a whole number/],
    [{ expiredBlobs: 1000 }, /^scenario\.expiredBlobs: 1000 is more than the 480 history blobs/],
    [{ bigBlobBytes: 100 }, /^scenario\.bigBlobBytes: must be 0 \(none\) or at least 65536/],
    [{ tenantId: "contoso" }, /^scenario\.tenantId: must be a tenant GUID/],
    [{ historyHour: 3 }, /^scenario: unknown key "historyHour"/],
  ])("rejects %j with a one-line message naming the key", (input, message) => {
    expect(() => validateScenario(input as never)).toThrow(message);
    try {
      validateScenario(input as never);
    } catch (error) {
      expect((error as Error).message).not.toContain("\n");
    }
  });
});
