/** The SIEMs `npm run handoff` can hand values to, one module each. */
import { arcsight } from "./arcsight";
import { elastic } from "./elastic";
import { mcafeeEsm } from "./mcafeeEsm";
import { qradar } from "./qradar";
import { sentinel } from "./sentinel";
import { splunk } from "./splunk";
import type { SiemId, SiemProfile } from "./types";

export const SIEMS: Readonly<Record<SiemId, SiemProfile>> = {
  splunk,
  arcsight,
  qradar,
  "mcafee-esm": mcafeeEsm,
  elastic,
  sentinel,
};

export type { CredentialCell, HandoffContext, HandoffField, SiemProfile } from "./types";
export {
  CREDENTIAL_MODES,
  type CredentialMode,
  managementScope,
  SIEM_IDS,
  type SiemId,
  tokenUrl,
} from "./types";
