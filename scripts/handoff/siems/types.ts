/**
 * What a SIEM module describes: the fields its own Office 365 connector asks for, under the
 * vendor's names, filled from one tenant's values. Each SIEM is one module in this folder.
 */
import type { CloudProfile } from "../../../domain/clouds";
import type { ContentType } from "../../../domain/contentTypes";

/** The SIEMs `npm run handoff` knows, as `--siem` spells them. */
export const SIEM_IDS = [
  "splunk",
  "arcsight",
  "qradar",
  "mcafee-esm",
  "elastic",
  "sentinel",
] as const;
export type SiemId = (typeof SIEM_IDS)[number];

/** How the app signs in: the stack's `credentialMode`. */
export const CREDENTIAL_MODES = ["secret", "certificate", "federated"] as const;
export type CredentialMode = (typeof CREDENTIAL_MODES)[number];

/**
 * The credential cell a connector's secret (or certificate) field shows: a description of where
 * the value is, or the value itself after `--reveal`.
 */
export interface CredentialCell {
  mode: CredentialMode;
  /** What the value column shows: a pointer, or (revealed) the secret itself. */
  value: string;
  /** Where it is and how to read it once; also when it expires. */
  note: string;
  revealed: boolean;
}

/** Everything a SIEM module fills its fields from. */
export interface HandoffContext {
  tenantId: string;
  clientId: string;
  cloud: CloudProfile;
  contentTypes: readonly ContentType[];
  publisherId: string;
  credential: CredentialCell;
  /** Resource id of the stack's Log Analytics workspace, when it has one. */
  workspaceResourceId: string | null;
}

/** One field of the connector's form (or configuration file). */
export interface HandoffField {
  /** The field's label in the vendor's product. */
  field: string;
  /** Its configuration key, where the vendor's files or API name one. */
  key?: string;
  value: string;
  note: string;
  /**
   * True when the label was confirmed in the vendor's documentation or code (cited in the
   * module); false when no source was found, which the output says.
   */
  confirmed: boolean;
  /** True for the row carrying the credential. */
  credential?: true;
}

/** A SIEM's Office 365 connector as AuditBridge hands values to it. */
export interface SiemProfile {
  id: SiemId;
  /** Product and connector name, e.g. "Splunk Add-on for Microsoft Office 365". */
  connector: string;
  /** Vendor documentation (or source) the field names come from. */
  sources: readonly string[];
  /** False when the connector needs no app registration (Microsoft Sentinel's own). */
  needsApp: boolean;
  fields(ctx: HandoffContext): HandoffField[];
  /** Steps and caveats, one line each. */
  notes(ctx: HandoffContext): string[];
}

/** Token endpoint of the tenant in the cloud (v2.0, client credentials). */
export function tokenUrl(ctx: HandoffContext): string {
  return `${ctx.cloud.authorityHost}/${ctx.tenantId}/oauth2/v2.0/token`;
}

/** The scope a client-credentials token for the Management Activity API asks for. */
export function managementScope(ctx: HandoffContext): string {
  return `${ctx.cloud.managementAudience.replace(/\/+$/, "")}/.default`;
}

/** The note every connector that sends the tenant id as PublisherIdentifier gets. */
export function publisherNote(ctx: HandoffContext, connector: string): string | undefined {
  if (ctx.publisherId.toLowerCase() === ctx.tenantId.toLowerCase()) return undefined;
  return `${connector} sends the tenant id as PublisherIdentifier (it has no setting for it), so its calls count against the tenant's own request quota, not against the stack's publisherId ${ctx.publisherId}.`;
}

/** Content types as one comma list, in the API's spelling. */
export function contentTypeList(ctx: HandoffContext): string {
  return ctx.contentTypes.join(",");
}
