/**
 * McAfee (now Trellix) Enterprise Security Manager: a data source of type Microsoft Office 365
 * that pulls the Management Activity API. Trellix's data source configuration reference lists
 * it; we could not read its fields, so every label is marked unconfirmed and the values carry
 * Microsoft's names.
 * - https://docs.trellix.com/
 */
import type { SiemProfile } from "./types";
import { managementApiFields } from "./unconfirmed";

export const mcafeeEsm: SiemProfile = {
  id: "mcafee-esm",
  connector: "McAfee / Trellix ESM Microsoft Office 365 data source",
  sources: ["https://docs.trellix.com/"],
  needsApp: true,
  fields: (ctx) => managementApiFields(ctx, "ESM"),
  notes: () => [
    "Add a data source (vendor Microsoft, model Office 365) on the receiver; its field names were not confirmed, so match each value below to the form.",
    "Alternative without a second reader: let AuditBridge's collector send CEF over syslog to an ESM receiver (docs/siem.md, McAfee / Trellix ESM).",
  ],
};
