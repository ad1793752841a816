import { hex32, Rng, randomGuid } from "../prng";
import type { TenantModel, TenantUser } from "../tenant";

/**
 * What a record builder needs besides its random stream. Builders append JSON members
 * (`"Key":value`, already encoded) to `fields` in the order the service emits them.
 */
export interface RecordContext {
  tenant: TenantModel;
  /** The record's Id (drawn first from the stream, so ids are cheap to list without rendering). */
  id: string;
  /** CreationTime in the wire format: `2026-11-27T10:11:12` (UTC, no zone designator). */
  creationTime: string;
  creationMs: number;
  /** The blob's record profile: "bulk" asks for uniform mid-size records (big blob). */
  bulk: boolean;
  /** Reused between records: builders only push to it. */
  readonly fields: string[];
}

/** A record builder for one workload. */
export type RecordBuilder = (ctx: RecordContext, rng: Rng) => void;

/** JSON string literal of any text (escapes quotes, backslashes, control characters). */
export const str = JSON.stringify as (value: string) => string;

/** JSON string literal of text known to need no escaping (GUIDs, tenant names, pool values). */
export function q(value: string): string {
  return `"${value}"`;
}

const DAY_MS = 86_400_000;
/** "00".."59": two-digit clock fields without padStart. */
const TWO_DIGITS: readonly string[] = Array.from({ length: 60 }, (_, i) =>
  String(i).padStart(2, "0"),
);
/** `yyyy-mm-ddT` by day number; a few hundred days at most are ever in play. */
const dayPrefixes = new Map<number, string>();

/**
 * Wire format of a time: `2026-11-27T10:11:12` (UTC, no `Z`, no fraction). Hand-formatted with a
 * per-day cache because Date#toISOString costs more than the rest of a small record.
 */
export function wireTime(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    if (dayPrefixes.size > 4096) dayPrefixes.clear();
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    dayPrefixes.set(day, prefix);
  }
  const seconds = Math.floor((ms - day * DAY_MS) / 1000);
  const minutes = Math.floor(seconds / 60);
  return `${prefix}${TWO_DIGITS[Math.floor(minutes / 60)]}:${TWO_DIGITS[minutes % 60]}:${TWO_DIGITS[seconds % 60]}`;
}

/** Time with 7 fractional digits and `Z`, as nested timestamps in some records are written. */
export function preciseTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}0000Z`;
}

const encodedCache = new Map<string, string>();

/**
 * JSON string literal of a value from a fixed pool (operation names, file names, subjects), cached
 * because JSON.stringify costs as much as the rest of a small member. Dynamic text uses `str`.
 */
export function enc(value: string): string {
  let out = encodedCache.get(value);
  if (out === undefined) {
    // Pools are small; the bound only guards against a caller passing dynamic text by mistake.
    if (encodedCache.size > 50_000) encodedCache.clear();
    out = JSON.stringify(value);
    encodedCache.set(value, out);
  }
  return out;
}

/** Returns `make(key)`, computed once per key object (per-user and per-site JSON fragments). */
export function cached<K extends object>(
  cache: WeakMap<K, string>,
  key: K,
  make: (key: K) => string,
): string {
  let out = cache.get(key);
  if (out === undefined) {
    out = make(key);
    cache.set(key, out);
  }
  return out;
}

export interface CommonFields {
  recordType: number;
  /** Already JSON-encoded (use `enc`). */
  operation: string;
  userType: number;
  /** Already JSON-encoded. */
  userKey: string;
  /** Plain text from a fixed vocabulary (no escaping needed). */
  workload: string;
  /** Plain text (no escaping needed); omitted when undefined. */
  resultStatus?: string | undefined;
  /** Already JSON-encoded ObjectId (use `q`, `enc` or `str`). Omitted when undefined. */
  objectId?: string | undefined;
  /** Already JSON-encoded. */
  userId: string;
  /** Already JSON-encoded ClientIP (`null` allowed). Omitted when undefined. */
  clientIp?: string | undefined;
}

/**
 * Appends the common schema members in the order the service writes them today:
 * CreationTime, Id, Operation, OrganizationId, RecordType, ResultStatus, UserKey, UserType,
 * Version, Workload, ClientIP, ObjectId, UserId. Members are grouped into a few pieces: a
 * repeated record may list its pieces in another order, as real duplicates do.
 */
export function common(ctx: RecordContext, rng: Rng, c: CommonFields): void {
  // Collectors must accept RecordType as a string: a few producers have emitted it that way.
  const recordType = rng.next() % 500 === 0 ? `"${c.recordType}"` : c.recordType;
  const resultStatus = c.resultStatus === undefined ? "" : `,"ResultStatus":"${c.resultStatus}"`;
  ctx.fields.push(
    `"CreationTime":"${ctx.creationTime}","Id":"${ctx.id}","Operation":${c.operation}`,
    `"OrganizationId":"${ctx.tenant.tenantId}","RecordType":${recordType}${resultStatus},"UserKey":${c.userKey},"UserType":${c.userType},"Version":1,"Workload":"${c.workload}"`,
    `${c.clientIp === undefined ? "" : `"ClientIP":${c.clientIp},`}${c.objectId === undefined ? "" : `"ObjectId":${c.objectId},`}"UserId":${c.userId}`,
  );
}

/** A random port in the dynamic range, as clients connect from. */
function port(rng: Rng): number {
  return rng.int(49152, 65535);
}

/**
 * The JSON-encoded ClientIP of a user's request. Mostly a bare IPv4 address; sometimes IPv6, with
 * a port, in brackets, or IPv4-mapped, as the unified audit log reports them.
 * `oddShare` scales how often the unusual forms appear (Teams and Viva Engage use them more).
 */
export function clientIp(rng: Rng, user: TenantUser, oddShare = 1): string {
  const r = rng.float();
  const odd = 0.12 * oddShare;
  if (r >= odd + 0.1) return user.json.ipv4;
  if (r >= odd) return user.json.ipv6;
  const k = r / odd;
  if (k < 0.4) return `"${user.ipv4}:${port(rng)}"`;
  if (k < 0.7) return `"[${user.ipv6}]:${port(rng)}"`;
  if (k < 0.85) return `"::ffff:${user.ipv4}"`;
  return `"[${user.ipv4}]:${port(rng)}"`;
}

/** A user picked with a skew: a few people do most of the work, as in real tenants. */
export function pickUser(rng: Rng, tenant: TenantModel): TenantUser {
  const users = tenant.users;
  const u = rng.float();
  return users[Math.floor(u * u * users.length)]!;
}

/** A member user (never a guest). */
export function pickMember(rng: Rng, tenant: TenantModel): TenantUser {
  const members = tenant.users.length - 3;
  const u = rng.float();
  return tenant.users[Math.floor(u * u * members)]!;
}

/**
 * Secondary GUIDs (correlation, session, incident ids) are glued from two halves drawn out of
 * fixed pools: one draw instead of four, 16.7 million combinations, which is plenty for ids
 * nobody deduplicates on. Record Ids always use the full `randomGuid`.
 */
const GUID_POOL_SIZE = 4096;
const guidPoolRng = new Rng(0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a);
const GUID_HEADS: readonly string[] = Array.from({ length: GUID_POOL_SIZE }, () =>
  randomGuid(guidPoolRng).slice(0, 18),
);
const GUID_TAILS: readonly string[] = Array.from({ length: GUID_POOL_SIZE }, () =>
  randomGuid(guidPoolRng).slice(18),
);

/** A GUID for a secondary id (see GUID_HEADS). */
export function guid(rng: Rng): string {
  const word = rng.next();
  return GUID_HEADS[word & (GUID_POOL_SIZE - 1)]! + GUID_TAILS[word >>> 20]!;
}

/** A secondary GUID as a JSON string literal. */
export function qGuid(rng: Rng): string {
  const word = rng.next();
  return `"${GUID_HEADS[word & (GUID_POOL_SIZE - 1)]!}${GUID_TAILS[word >>> 20]!}"`;
}

/** `n` upper-case hex digits (n a multiple of 8). */
export function upperHex(rng: Rng, n: number): string {
  let out = "";
  for (let i = 0; i < n; i += 8) out += hex32(rng.next());
  return out.toUpperCase();
}

const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_POOL_SIZE = 65_536;
/** Fixed random base64 text; ids are slices of it (one draw, no per-character work). */
const BASE64_POOL = (() => {
  const rng = new Rng(0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19);
  const out: string[] = [];
  for (let i = 0; i < BASE64_POOL_SIZE; i++) out.push(BASE64_ALPHABET[rng.next() & 63]!);
  return out.join("");
})();

/** Fixed random upper-case hex text; message ids are slices of it. */
const HEX_POOL = (() => {
  const rng = new Rng(0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5);
  const out: string[] = [];
  for (let i = 0; i < BASE64_POOL_SIZE / 8; i++) out.push(hex32(rng.next()).toUpperCase());
  return out.join("");
})();

/** `length` upper-case hex digits (at most 4096), from a fixed pool. */
export function hexish(rng: Rng, length: number): string {
  return HEX_POOL.substr(rng.next() % (BASE64_POOL_SIZE - length), length);
}

/** Base64-looking text of `length` characters (Exchange item and folder ids), at most 4096. */
export function base64ish(rng: Rng, length: number): string {
  return BASE64_POOL.substr(rng.next() % (BASE64_POOL_SIZE - length), length);
}

/**
 * Serialises a value as the service does when it nests JSON inside a string member: pretty-printed
 * with two spaces and CRLF line breaks (Entra ModifiedProperties), then encoded as a JSON string.
 */
export function prettyJsonInString(value: unknown): string {
  return str(JSON.stringify(value, null, 2).replace(/\n/g, "\r\n"));
}

/** A `{"Name":…,"Value":…}` array from pairs (values JSON-encoded by `str`). */
export function nameValueArray(pairs: readonly (readonly [string, string])[]): string {
  let out = "[";
  for (let i = 0; i < pairs.length; i++) {
    const [name, value] = pairs[i]!;
    out += `${i === 0 ? "" : ","}{"Name":${str(name)},"Value":${str(value)}}`;
  }
  return `${out}]`;
}

/** A weighted choice table; weights need not sum to 1. Build once at module load. */
export class Weighted<T> {
  private readonly bounds: number[] = [];
  private readonly values: T[] = [];
  private readonly total: number;

  constructor(entries: readonly (readonly [weight: number, value: T])[]) {
    let sum = 0;
    for (const [weight, value] of entries) {
      sum += weight;
      this.bounds.push(sum);
      this.values.push(value);
    }
    this.total = sum;
  }

  pick(rng: Rng): T {
    const r = rng.float() * this.total;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length - 1 && r >= bounds[i]!) i++;
    return this.values[i]!;
  }
}
