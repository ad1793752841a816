import {
  constants,
  createHash,
  type KeyObject,
  verify as verifySignature,
  X509Certificate,
} from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import selfsigned from "selfsigned";

/**
 * The emulated app's certificate credential: an RSA certificate and key (Entra accepts only RSA
 * keys for client assertions), generated once per certificate directory and reused, plus the
 * checks Entra applies to a certificate-signed client assertion (private_key_jwt).
 * Reference: learn.microsoft.com/entra/identity-platform/certificate-credentials.
 */

/** X.509 lifetime of the generated certificate; the knob `certificateExpiresAtMs` governs Entra's view. */
const CERT_LIFETIME_MS = 825 * 24 * 60 * 60 * 1000;
/** Regenerate the cached certificate when less than this is left. */
const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;
/** Cache of the generated certificate and key (one combined PEM). */
const CACHE_FILE = "app-credential.pem";
/** Subject of the generated certificate. */
export const APP_CERTIFICATE_SUBJECT = "CN=AuditBridge emulated app";

/** The app's certificate as the emulator registered it. */
export interface AppCertificate {
  /** PEM file holding the certificate, then its private key (AZURE_CLIENT_CERTIFICATE_PATH). */
  path: string;
  /** SHA-1 thumbprint, upper-case hex, as the Entra portal shows it. */
  thumbprint: string;
  /** SHA-256 thumbprint, upper-case hex. */
  thumbprintSha256: string;
  /** Subject distinguished name, e.g. "CN=AuditBridge emulated app". */
  subject: string;
  publicKey: KeyObject;
}

async function atomicWrite(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, content, { mode: 0o600 });
  await rename(tmp, file);
}

async function generatePem(): Promise<string> {
  const notBeforeDate = new Date(Date.now() - 60 * 60 * 1000);
  const notAfterDate = new Date(notBeforeDate.getTime() + CERT_LIFETIME_MS);
  const pems = await selfsigned.generate(
    [{ name: "commonName", value: APP_CERTIFICATE_SUBJECT.slice(3) }],
    {
      keyType: "rsa",
      keySize: 2048,
      algorithm: "sha256",
      notBeforeDate,
      notAfterDate,
      extensions: [
        { name: "basicConstraints", cA: false },
        { name: "keyUsage", digitalSignature: true, critical: true },
        { name: "extKeyUsage", clientAuth: true },
      ],
    },
  );
  return `${pems.cert.trim()}\n${pems.private.trim()}\n`;
}

/** The certificate of a combined PEM, or undefined when the PEM lacks a certificate or key. */
function parseCombinedPem(pem: string): X509Certificate | undefined {
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(pem)) return undefined;
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/**
 * Returns the app certificate of `dir`, generating it on first use. The PEM handed to clients is
 * written under a name derived from its own thumbprint, so an emulator always registers exactly
 * the certificate its `certificatePath` holds, even when several processes generate at once.
 */
export async function ensureAppCertificate(dir: string): Promise<AppCertificate> {
  const cachePath = path.join(dir, CACHE_FILE);
  let pem: string | undefined;
  try {
    pem = await readFile(cachePath, "utf8");
    const cert = parseCombinedPem(pem);
    if (!cert || Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) pem = undefined;
  } catch {
    pem = undefined;
  }
  if (pem === undefined) {
    pem = await generatePem();
    await mkdir(dir, { recursive: true });
    await atomicWrite(cachePath, pem);
  }
  const cert = parseCombinedPem(pem);
  if (!cert) throw new Error(`the app certificate cache ${cachePath} holds no certificate and key`);
  const thumbprintSha256 = createHash("sha256").update(cert.raw).digest("hex").toUpperCase();
  const file = path.join(dir, `app-${thumbprintSha256.slice(0, 16).toLowerCase()}.pem`);
  await atomicWrite(file, pem);
  return {
    path: file,
    thumbprint: createHash("sha1").update(cert.raw).digest("hex").toUpperCase(),
    thumbprintSha256,
    subject: cert.subject.replace(/\n/g, ", "),
    publicKey: cert.publicKey,
  };
}

/** Why a certificate assertion was refused; the token endpoint maps it to an AADSTS answer. */
export type AssertionProblem =
  | { kind: "malformed"; detail: string }
  | { kind: "unsupported-algorithm"; alg: string }
  | { kind: "unknown-key"; thumbprint: string }
  | { kind: "bad-signature"; thumbprint: string }
  | { kind: "wrong-audience"; audience: string }
  | { kind: "wrong-issuer"; issuer: string; subject: string }
  | { kind: "not-in-time-range" };

/** A certificate-signed assertion that passed every check but the registration's expiry. */
export interface VerifiedAssertion {
  certificate: AppCertificate;
}

/** What the token endpoint expects of a certificate assertion. */
export interface AssertionExpectations {
  clientId: string;
  /** Accepted `aud` values (the token endpoints and the authority), compared case-insensitively. */
  audiences: readonly string[];
  nowMs: number;
  certificates: readonly AppCertificate[];
}

/** Five minutes of leeway for an assertion issued by a client whose clock runs ahead. */
const CLOCK_SKEW_SECONDS = 300;

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** True when the JWT header names a certificate (x5t or x5t#S256): a private_key_jwt assertion. */
export function isCertificateAssertion(assertion: string): boolean {
  const header = decodeJson(assertion.split(".")[0] ?? "");
  return header !== undefined && (header.x5t !== undefined || header["x5t#S256"] !== undefined);
}

function thumbprintOf(value: unknown): string | undefined {
  if (typeof value !== "string" || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  return Buffer.from(value, "base64url").toString("hex").toUpperCase();
}

const trimSlash = (url: string) => url.replace(/\/+$/, "").toLowerCase();

/**
 * Checks a certificate-signed client assertion the way Entra does: header alg RS256 or PS256,
 * x5t (SHA-1) or x5t#S256 naming a registered certificate, the signature against that
 * certificate's public key, aud, iss = sub = client id, a lifetime that includes now, and a jti.
 */
export function verifyCertificateAssertion(
  assertion: string,
  expect: AssertionExpectations,
): { ok: true; value: VerifiedAssertion } | { ok: false; problem: AssertionProblem } {
  const parts = assertion.split(".");
  const fail = (problem: AssertionProblem) => ({ ok: false as const, problem });
  if (parts.length !== 3) return fail({ kind: "malformed", detail: "not a compact JWT" });
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart);
  const claims = decodeJson(payloadPart);
  if (!header || !claims)
    return fail({ kind: "malformed", detail: "header or payload is not JSON" });

  const alg = String(header.alg ?? "");
  if (alg !== "RS256" && alg !== "PS256") return fail({ kind: "unsupported-algorithm", alg });

  const sha256 = thumbprintOf(header["x5t#S256"]);
  const sha1 = thumbprintOf(header.x5t);
  const presented = sha256 ?? sha1 ?? "";
  const certificate = expect.certificates.find((c) =>
    sha256 !== undefined ? c.thumbprintSha256 === sha256 : c.thumbprint === sha1,
  );
  if (!certificate) return fail({ kind: "unknown-key", thumbprint: presented });

  const signature = Buffer.from(signaturePart, "base64url");
  const signed = Buffer.from(`${headerPart}.${payloadPart}`);
  // RFC 7518 §3.5: PS256 uses MGF1 with SHA-256 and a salt as long as the hash.
  const key =
    alg === "PS256"
      ? {
          key: certificate.publicKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
        }
      : { key: certificate.publicKey, padding: constants.RSA_PKCS1_PADDING };
  let valid = false;
  try {
    valid = verifySignature("sha256", signed, key, signature);
  } catch {
    valid = false;
  }
  if (!valid) return fail({ kind: "bad-signature", thumbprint: presented });

  const audience = typeof claims.aud === "string" ? claims.aud : "";
  if (!expect.audiences.some((a) => trimSlash(a) === trimSlash(audience))) {
    return fail({ kind: "wrong-audience", audience });
  }
  const issuer = typeof claims.iss === "string" ? claims.iss : "";
  const subject = typeof claims.sub === "string" ? claims.sub : "";
  const clientId = expect.clientId.toLowerCase();
  if (issuer.toLowerCase() !== clientId || subject.toLowerCase() !== clientId) {
    return fail({ kind: "wrong-issuer", issuer, subject });
  }
  const nowSeconds = Math.floor(expect.nowMs / 1000);
  if (typeof claims.exp !== "number" || claims.exp <= nowSeconds) {
    return fail({ kind: "not-in-time-range" });
  }
  if (typeof claims.nbf === "number" && claims.nbf > nowSeconds + CLOCK_SKEW_SECONDS) {
    return fail({ kind: "not-in-time-range" });
  }
  if (typeof claims.jti !== "string" || claims.jti === "") {
    return fail({ kind: "malformed", detail: "the jti claim is missing" });
  }
  return { ok: true, value: { certificate } };
}

/**
 * Start and end of the app's certificate registration as Graph lists it: the end is the
 * `certificateExpiresAtMs` knob, the start a default lifetime earlier (never after now).
 */
export function registrationWindow(
  expiresAtMs: number,
  nowMs: number,
  lifetimeMs: number,
): { startMs: number; endMs: number } {
  return { startMs: Math.min(expiresAtMs - lifetimeMs, nowMs), endMs: expiresAtMs };
}
