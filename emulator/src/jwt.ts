import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * The emulator's access tokens: compact JWTs signed with HS256 and a key that lives only in the
 * emulator process. Clients treat access tokens as opaque, so the algorithm does not matter to
 * them; what matters is that the emulator can tell its own tokens from forged or stale ones.
 */

/** Claims the emulator puts in (and reads from) a token. */
export interface TokenClaims {
  aud: string;
  iss: string;
  tid: string;
  sub: string;
  oid?: string;
  appid?: string;
  azp?: string;
  roles?: string[];
  iat: number;
  nbf: number;
  exp: number;
  /** Token id, unique per issued token. */
  uti: string;
  [claim: string]: unknown;
}

/** Why a token was refused; the caller maps it to the endpoint's error shape. */
export type TokenProblem = "missing" | "malformed" | "bad-signature" | "expired" | "not-yet-valid";

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; problem: TokenProblem };

function base64url(input: Buffer | string): string {
  return Buffer.from(input).toString("base64url");
}

/** Signs and verifies the emulator's tokens with one per-process key. */
export class TokenSigner {
  private readonly key = randomBytes(32);

  sign(claims: TokenClaims): string {
    const header = base64url(
      JSON.stringify({ typ: "JWT", alg: "HS256", kid: "auditbridge-emulator" }),
    );
    const payload = base64url(JSON.stringify(claims));
    const signature = createHmac("sha256", this.key).update(`${header}.${payload}`).digest();
    return `${header}.${payload}.${base64url(signature)}`;
  }

  /** Checks signature and lifetime (against the emulator's clock, in ms). */
  verify(token: string | undefined, nowMs: number): TokenCheck {
    if (!token) return { ok: false, problem: "missing" };
    const parts = token.split(".");
    if (parts.length !== 3) return { ok: false, problem: "malformed" };
    const [header, payload, signature] = parts as [string, string, string];
    const expected = createHmac("sha256", this.key).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, problem: "bad-signature" };
    }
    let claims: TokenClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as TokenClaims;
    } catch {
      return { ok: false, problem: "malformed" };
    }
    const nowSeconds = Math.floor(nowMs / 1000);
    if (typeof claims.exp !== "number" || claims.exp <= nowSeconds) {
      return { ok: false, problem: "expired" };
    }
    // Five minutes of leeway, as Entra-protected APIs allow for clock skew.
    if (typeof claims.nbf === "number" && claims.nbf > nowSeconds + 300) {
      return { ok: false, problem: "not-yet-valid" };
    }
    return { ok: true, claims };
  }
}

/** Reads the claims of any compact JWT without checking its signature. */
export function decodeUnverified(token: string): Record<string, unknown> | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8")) as unknown;
    const payload = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as unknown;
    if (typeof header !== "object" || header === null) return undefined;
    if (typeof payload !== "object" || payload === null) return undefined;
    return payload as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Extracts the bearer token from an Authorization header value. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
