/**
 * The emulator's activity generator: plans which content blobs a tenant has (a catalogue) and
 * renders their bodies on demand, deterministically from a seed. The emulator server lists and
 * serves what this module plans; tests use the same catalogue as ground truth.
 */
export {
  type BlobPlan,
  buildCatalogue,
  type Catalogue,
  CONTENT_RETENTION_MS,
  contentIdKey,
} from "./catalogue";
export { DLP_SENSITIVE_TYPES, type DlpSensitiveType } from "./records";
export { blobRecordIds, CHUNK_CHARS, renderBlob } from "./render";
export {
  CONTENT_TYPES,
  type ContentType,
  DEFAULT_SCENARIO,
  DEFAULT_TENANT_ID,
  isContentType,
  MAX_HISTORY_HOURS,
  type ScenarioOptions,
  validateScenario,
} from "./scenario";
export type { TenantModel, TenantSite, TenantTeam, TenantUser } from "./tenant";
