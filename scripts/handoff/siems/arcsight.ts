/**
 * OpenText (formerly Micro Focus, HPE) ArcSight SmartConnector for Microsoft Office 365. Its
 * configuration guide (the connector's install-wizard parameters) is published with the
 * SmartConnector documentation; we could not read its parameter table, so every label is
 * marked unconfirmed and the values carry Microsoft's names.
 * - https://www.microfocus.com/documentation/arcsight/arcsight-smartconnectors/
 */
import type { SiemProfile } from "./types";
import { managementApiFields } from "./unconfirmed";

export const arcsight: SiemProfile = {
  id: "arcsight",
  connector: "ArcSight SmartConnector for Microsoft Office 365",
  sources: ["https://www.microfocus.com/documentation/arcsight/arcsight-smartconnectors/"],
  needsApp: true,
  fields: (ctx) => managementApiFields(ctx, "ArcSight"),
  notes: () => [
    "Install the SmartConnector and pick Microsoft Office 365 in the wizard; its parameter names were not confirmed, so match each value below to the wizard's field.",
    "Alternative without a second reader: let AuditBridge's collector send CEF to a SmartConnector Syslog Daemon (docs/siem.md, ArcSight).",
  ],
};
