/**
 * The result of one preflight check, and the check ids and titles (part of the JSON schema).
 */
import type { CheckStatus } from "../common/output";

export type { CheckStatus };

/** Stable identifiers of the checks, in run order (part of the JSON schema). */
export const PREFLIGHT_CHECK_IDS = [
  "sign-in",
  "resource-group",
  "rg-permissions",
  "providers",
  "container-apps-location",
  "key-vault-name",
  "workspace",
  "registry",
  "directory-role",
  "o365-service-principal",
] as const;
export type PreflightCheckId = (typeof PREFLIGHT_CHECK_IDS)[number];

/** Titles shown in the table, by check id. */
export const PREFLIGHT_CHECK_TITLES: Readonly<Record<PreflightCheckId, string>> = Object.freeze({
  "sign-in": "Sign-in to the tenant(s)",
  "resource-group": "Resource group",
  "rg-permissions": "Create resources and role assignments",
  providers: "Resource providers registered",
  "container-apps-location": "Container Apps in the location",
  "key-vault-name": "Key Vault name free",
  workspace: "Existing workspace",
  registry: "Container registry (AcrPull)",
  "directory-role": "Register apps and grant consent",
  "o365-service-principal": "Office 365 Management APIs",
});

/** What a judge decides; run.ts adds id, number and title. `reason`/`fix` are single lines. */
export interface Verdict {
  status: CheckStatus;
  reason: string;
  /** The exact fix (a command or a portal path); null on a pass or skip. */
  fix: string | null;
  details?: Record<string, unknown>;
}

/** The result of one check as reported. */
export interface PreflightCheckResult extends Verdict {
  id: PreflightCheckId;
  /** 1-based position in run order. */
  number: number;
  title: string;
}

/** Shorthands for verdicts. */
export const pass = (reason: string, details?: Record<string, unknown>): Verdict => ({
  status: "pass",
  reason,
  fix: null,
  ...(details ? { details } : {}),
});
export const fail = (reason: string, fix: string, details?: Record<string, unknown>): Verdict => ({
  status: "fail",
  reason,
  fix,
  ...(details ? { details } : {}),
});
export const warn = (reason: string, fix: string, details?: Record<string, unknown>): Verdict => ({
  status: "warn",
  reason,
  fix,
  ...(details ? { details } : {}),
});
export const skip = (reason: string): Verdict => ({ status: "skip", reason, fix: null });
