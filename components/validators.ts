/**
 * Pure checks shared by `stacks/config.ts` and the components. Each returns a problem phrase
 * ("must be a GUID …") or `undefined`; the caller adds the key or argument name and the fix, so
 * the same rule reads naturally as a config error and as a component-argument error. Nothing here
 * touches Pulumi, so the rules are tested table-driven without a runtime.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { isGuid } from "../domain/validators";

/** Longest client secret Entra ID lets an app owner create (2 years; Entra portal limit). */
export const MAX_SECRET_LIFETIME_DAYS = 730;
/** Default lifetime of a client secret. */
export const DEFAULT_SECRET_LIFETIME_DAYS = 180;
/** Default rotation period: a new secret every 90 days, so two are always valid at once. */
export const DEFAULT_SECRET_ROTATION_DAYS = 90;
/**
 * The old secret must stay valid at least this long after the new one is created, so the
 * collector has time to restart on the new one before the old one expires.
 */
export const MIN_SECRET_OVERLAP_DAYS = 7;
/** Log Analytics interactive retention limits for the PerGB2018 SKU, in days. */
export const MIN_WORKSPACE_RETENTION_DAYS = 30;
export const MAX_WORKSPACE_RETENTION_DAYS = 730;
/** Longest `namePrefix`: keeps `kv-<prefix>-<6 hex>` within Key Vault's 24 characters. */
export const MAX_NAME_PREFIX_LENGTH = 12;

// Custom log tables end in _CL; column rules (letter first, letters/digits/underscore) also apply
// to table names, and the whole name is limited to 63 characters (Log Analytics table limits).
const TABLE_NAME_RE = /^[A-Za-z][A-Za-z0-9_]{0,59}_CL$/;
const NAME_PREFIX_RE = /^[a-z][a-z0-9]*$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Problem with an integer that must lie in [min, max], if any. */
export function integerRangeProblem(value: number, min: number, max: number): string | undefined {
  if (!Number.isInteger(value) || value < min || value > max) {
    return `must be a whole number between ${min} and ${max}`;
  }
  return undefined;
}

/** Problem with a client secret lifetime in days, if any. */
export function secretLifetimeProblem(days: number): string | undefined {
  return integerRangeProblem(days, 1, MAX_SECRET_LIFETIME_DAYS);
}

/**
 * Problem with a rotation period, if any. The period must leave {@link MIN_SECRET_OVERLAP_DAYS}
 * of overlap: the previous secret is still valid for `lifetime - rotation` days after the next
 * one is created.
 */
export function secretRotationProblem(
  rotationDays: number,
  lifetimeDays: number,
): string | undefined {
  const max = lifetimeDays - MIN_SECRET_OVERLAP_DAYS;
  if (max < 1) {
    return `needs a secret lifetime of at least ${MIN_SECRET_OVERLAP_DAYS + 1} days (the lifetime is ${lifetimeDays})`;
  }
  if (!Number.isInteger(rotationDays) || rotationDays < 1 || rotationDays > max) {
    return `must be a whole number between 1 and ${max} (the secret lifetime minus ${MIN_SECRET_OVERLAP_DAYS} days of overlap)`;
  }
  return undefined;
}

/** Parses an ISO 8601 date (`2026-01-01`) or UTC/offset instant; `undefined` if it is not one. */
export function parseIsoInstant(value: string): Date | undefined {
  if (!DATE_RE.test(value)) return undefined;
  const [year, month, day] = value.slice(0, 10).split("-").map(Number) as [number, number, number];
  // Date.parse rolls 2026-02-30 over to March; refuse calendar dates that do not exist.
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return undefined;
  const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Problem with a rotation anchor (an ISO date not after `nowMs`), if any. */
export function rotationAnchorProblem(value: string, nowMs: number): string | undefined {
  const date = parseIsoInstant(value);
  if (!date) return "must be an ISO 8601 date like 2026-01-01";
  if (date.getTime() > nowMs) return "must not be in the future";
  return undefined;
}

/** Problem with a custom table name, if any. */
export function tableNameProblem(name: string): string | undefined {
  return TABLE_NAME_RE.test(name)
    ? undefined
    : "must start with a letter, use only letters, digits and underscores, end in _CL and be at most 63 characters";
}

/** Problem with a resource-name prefix, if any. */
export function namePrefixProblem(prefix: string): string | undefined {
  if (!NAME_PREFIX_RE.test(prefix) || prefix.length < 2 || prefix.length > MAX_NAME_PREFIX_LENGTH) {
    return `must be 2 to ${MAX_NAME_PREFIX_LENGTH} lowercase letters or digits, starting with a letter (it goes into storage account and Key Vault names)`;
  }
  return undefined;
}

/**
 * A name prefix derived from a stack name: lowercase letters and digits only, starting with a
 * letter, at most {@link MAX_NAME_PREFIX_LENGTH} characters. `undefined` when nothing usable is left.
 */
export function namePrefixFromStack(stack: string): string | undefined {
  const cleaned = stack
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "")
    .replace(/^[0-9]+/, "");
  const prefix = cleaned.slice(0, MAX_NAME_PREFIX_LENGTH);
  return prefix.length >= 2 ? prefix : undefined;
}

/**
 * Problem with a container image reference, if any. A pinned tag or digest is required so a
 * deploy is repeatable; `latest` is refused for the same reason.
 */
export function imageReferenceProblem(image: string): string | undefined {
  if (/\s/.test(image) || image.length === 0) return "must be an image reference without spaces";
  const slash = image.indexOf("/");
  const host = slash > 0 ? image.slice(0, slash) : "";
  if (!host.includes(".") && !host.includes(":") && host !== "localhost") {
    return "must name its registry, like myregistry.azurecr.io/auditbridge-collector:1.0.0";
  }
  const rest = image.slice(slash + 1);
  if (rest.includes("@sha256:")) return undefined;
  const colon = rest.lastIndexOf(":");
  if (colon < 0) return "must carry a tag or digest, like :1.0.0 or @sha256:…";
  if (rest.slice(colon + 1) === "latest") return "must pin a version tag or digest, not :latest";
  return undefined;
}

/** Registry host of an image reference (`myregistry.azurecr.io/x:1` → `myregistry.azurecr.io`). */
export function imageRegistryHost(image: string): string {
  return image.slice(0, image.indexOf("/"));
}

/** An Azure resource id split into the parts AuditBridge needs. */
export interface ParsedResourceId {
  subscriptionId: string;
  resourceGroupName: string;
  provider: string;
  resourceType: string;
  name: string;
}

/** Splits `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}`; `undefined` if malformed. */
export function parseResourceId(id: string): ParsedResourceId | undefined {
  const m =
    /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/([^/]+)\/([^/]+)\/([^/]+)$/i.exec(
      id.trim(),
    );
  if (!m || !isGuid(m[1]!)) return undefined;
  return {
    subscriptionId: m[1]!,
    resourceGroupName: m[2]!,
    provider: m[3]!,
    resourceType: m[4]!,
    name: m[5]!,
  };
}

/** Problem with a resource id that must name a resource of `provider/type`, if any. */
export function resourceIdProblem(id: string, provider: string, type: string): string | undefined {
  const parsed = parseResourceId(id);
  if (
    !parsed ||
    parsed.provider.toLowerCase() !== provider.toLowerCase() ||
    parsed.resourceType.toLowerCase() !== type.toLowerCase()
  ) {
    return `must be a resource id like /subscriptions/<guid>/resourceGroups/<group>/providers/${provider}/${type}/<name>`;
  }
  return undefined;
}

/** The first `-----BEGIN CERTIFICATE-----` block of a PEM bundle, or `undefined`. */
export function certificateBlock(pem: string): string | undefined {
  const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  return m ? `${m[0]}\n` : undefined;
}

/**
 * Problem with a client certificate bundle (certificate plus private key, PEM), if any. The
 * message never quotes the value: it holds a private key.
 */
export function certificateBundleProblem(pem: string, nowMs: number): string | undefined {
  const cert = certificateBlock(pem);
  if (!cert || !/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(pem)) {
    return "must be a PEM bundle holding the certificate and its private key";
  }
  let notAfter: number;
  try {
    notAfter = new Date(new X509Certificate(cert).validTo).getTime();
  } catch {
    return "holds a certificate block that is not a valid X.509 certificate";
  }
  if (notAfter <= nowMs) return "holds a certificate that has already expired";
  return undefined;
}

/**
 * Problem with a PEM file of certificates (a CA bundle or a client certificate), if any: it must
 * hold at least one CERTIFICATE block, each a valid X.509 certificate, and no private key.
 */
export function certificatesPemProblem(pem: string): string | undefined {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0)
    return "must be PEM text holding at least one -----BEGIN CERTIFICATE----- block";
  if (/PRIVATE KEY-----/.test(pem)) {
    return "holds a private key: give the certificate here and the key in its own secret setting";
  }
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      return `holds a certificate block (number ${index + 1}) that is not a valid X.509 certificate`;
    }
  }
  return undefined;
}

/**
 * Problem with an unencrypted PEM private key, if any. The message never quotes the value. The
 * collector reads such a key file without a passphrase (SYSLOG_CLIENT_KEY_FILE).
 */
export function privateKeyPemProblem(pem: string): string | undefined {
  if (!/-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/.test(pem)) {
    return "must be PEM text holding a -----BEGIN PRIVATE KEY----- block";
  }
  if (/ENCRYPTED PRIVATE KEY|Proc-Type: 4,ENCRYPTED/.test(pem)) {
    return "is encrypted; give the key without a passphrase (it is kept in Key Vault)";
  }
  try {
    createPrivateKey(pem);
  } catch {
    return "is not a private key Node.js can read (PKCS#8, PKCS#1 or SEC1 PEM)";
  }
  return undefined;
}

/** Expiry of the first certificate in a PEM bundle, as an RFC 3339 UTC instant. */
export function certificateExpiry(pem: string): string {
  const cert = certificateBlock(pem);
  if (!cert) throw new Error("certificate bundle holds no CERTIFICATE block");
  return toRfc3339(new Date(new X509Certificate(cert).validTo));
}

/** `2026-07-01T00:00:00Z`: RFC 3339 without milliseconds, the form Entra ID echoes back. */
export function toRfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Levenshtein distance, for "did you mean" hints on misspelt config keys. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      const cost = a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The known name closest to `name` within edit distance 3, for "did you mean" hints. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const candidate of known) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Most tags an Azure resource can carry. */
export const MAX_AZURE_TAGS = 50;

/**
 * Problem with a set of Azure resource tags, if any: at most 50 tags, names 1–512 characters
 * without `<`, `>`, `%`, `&`, `\`, `?` or `/`, values at most 256 characters (storage
 * accounts: names at most 128). The strictest limits apply, since every tag goes to every
 * taggable resource. https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations
 */
export function tagsProblem(tags: Readonly<Record<string, string>>): string | undefined {
  const entries = Object.entries(tags);
  if (entries.length > MAX_AZURE_TAGS) {
    return `must hold at most ${MAX_AZURE_TAGS} tags (got ${entries.length})`;
  }
  for (const [name, value] of entries) {
    if (name.length === 0 || name.length > 128) {
      return `tag name ${JSON.stringify(name)} must be 1–128 characters`;
    }
    if (/[<>%&\\?/]/.test(name)) {
      return `tag name ${JSON.stringify(name)} must not contain < > % & \\ ? or /`;
    }
    if (typeof value !== "string") return `tag ${name} must have a string value`;
    if (value.length > 256) return `tag ${name} has a value longer than 256 characters`;
  }
  return undefined;
}
