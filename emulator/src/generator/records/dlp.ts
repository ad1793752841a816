import { RECORD_TYPES } from "../../microsoft/recordTypes";
import { Rng } from "../prng";
import {
  common,
  enc,
  guid,
  hexish,
  pickMember,
  qGuid,
  type RecordContext,
  str,
  Weighted,
  wireTime,
} from "./common";

/** A sensitive information type as `/resources/dlpSensitiveTypes` lists it. */
export interface DlpSensitiveType {
  id: string;
  name: string;
}

/**
 * Sensitive information types the emulated DLP policies detect. The first two ids are the ones
 * Microsoft's reference shows for `/resources/dlpSensitiveTypes`; the rest are synthetic. The
 * emulator serves this list, so every SensitiveType in a record resolves to a name.
 */
export const DLP_SENSITIVE_TYPES: readonly DlpSensitiveType[] = Object.freeze([
  { id: "50842eb7-edc8-4019-85dd-5a5c1f2bb085", name: "CreditCardNumber" },
  { id: "0e9b3178-9678-47dd-a509-37222ca96b42", name: "EUDebitCardNumber" },
  { id: "67041932-d71e-4719-a394-046b971634f4", name: "U.S. Social Security Number (SSN)" },
  {
    id: "68a6fce5-d423-496d-abf9-080c58bfeb0a",
    name: "International Banking Account Number (IBAN)",
  },
  { id: "8530078e-8f98-4f63-ad70-2952d0faf36b", name: "ABA Routing Number" },
  { id: "f29e40ac-1d8c-4eee-81b4-d035881cdde0", name: "U.S. Bank Account Number" },
  { id: "cd5036ab-2e86-41fb-ad72-df0882c1ddf0", name: "U.K. National Insurance Number (NINO)" },
  { id: "27f261d5-6c2c-4abd-9284-9f95546a33ce", name: "EU Passport Number" },
]);

/** Policies with their rules; names and ids pre-encoded as the members records carry. */
const POLICIES = (
  [
    [
      "U.S. Financial Data",
      "cac3e694-65a0-45e0-9f7b-52b7e96f73c3",
      [
        ["Low volume of content detected U.S. Financial", "3783e064-03a4-4dba-ba78-0c25a495047f"],
        ["High volume of content detected U.S. Financial", "b1d7c2a4-5e6f-4a8b-9c0d-1e2f3a4b5c6d"],
      ],
    ],
    [
      "GDPR Enhanced",
      "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f7a",
      [["EU sensitive data shared externally", "e5f6a7b8-c9d0-4e1f-9a2b-3c4d5e6f7a8b"]],
    ],
    [
      "PCI DSS",
      "f6a7b8c9-d0e1-4f2a-8b3c-4d5e6f7a8b9c",
      [["Card numbers in email", "a7b8c9d0-e1f2-4a3b-9c4d-5e6f7a8b9c0d"]],
    ],
  ] as [string, string, [string, string][]][]
).map(([name, id, rules]) => ({
  head: `[{"PolicyId":"${id}","PolicyName":${JSON.stringify(name)},"Rules":[{"Actions":`,
  rules: rules.map(
    ([ruleName, ruleId]) =>
      `"RuleId":"${ruleId}","RuleMode":"Enable","RuleName":${JSON.stringify(ruleName)}`,
  ),
}));
const ACTIONS = [
  '["NotifyUser"]',
  '["BlockAccess","NotifyUser","GenerateIncidentReport"]',
  '["GenerateIncidentReport"]',
  '["NotifyUser","GenerateAlert"]',
];
const FILES = [
  "Customers Financial Data.docx",
  "payroll-2027.xlsx",
  "passport scans.pdf",
  "card-export.csv",
].map((name) => ({
  name,
  member: `"FileName":${JSON.stringify(name)}`,
  path: encodeURIComponent(name),
}));
const SUBJECTS = [
  "Here's the data you asked for",
  "Payroll update",
  "RE: invoice details",
  "Customer list",
].map((subject) => JSON.stringify(subject));
const DLP_OPS = new Weighted([
  [86, "DlpRuleMatch"],
  [8, "DlpInfo"],
  [6, "DlpRuleUndo"],
] as const);

/** A plausible but invalid value of a sensitive type (detections carry sample values). */
function detectedValue(rng: Rng, typeName: string): string {
  if (typeName === "CreditCardNumber" || typeName === "EUDebitCardNumber") {
    return `4${rng.int(100, 999)} ${rng.int(1000, 9999)} ${rng.int(1000, 9999)} ${rng.int(1000, 9999)}`;
  }
  if (typeName.includes("IBAN")) {
    return `DE${rng.int(10, 99)}${rng.int(10_000_000, 99_999_999)}${rng.int(10_000_000, 99_999_999)}`;
  }
  return `${rng.int(100, 899)}-${rng.int(10, 99)}-${rng.int(1000, 9999)}`;
}

/**
 * Per sensitive type: its SensitiveType member and a pool of detected values already encoded as
 * `{"Name":…,"Value":…}` (one draw per value instead of several).
 */
const DETECTION_POOLS = DLP_SENSITIVE_TYPES.map((type, i) => {
  const rng = new Rng(0x9b05688c, 0x2b3e6c1f, i, 0x7137449);
  const values: string[] = [];
  for (let k = 0; k < 256; k++) {
    values.push(`{"Name":${JSON.stringify(type.name)},"Value":"${detectedValue(rng, type.name)}"}`);
  }
  return { typeMember: `"SensitiveType":"${type.id}"`, values };
});

function sensitiveInformation(
  rng: Rng,
  ctx: RecordContext,
  detailed: boolean,
  location: string,
): string {
  const n = rng.int(1, 3);
  let out = "[";
  for (let i = 0; i < n; i++) {
    const pool = rng.pick(DETECTION_POOLS);
    const count = rng.int(1, 25);
    out += `${i === 0 ? "" : ","}{"Confidence":${rng.pick(CONFIDENCE)},"Count":${count},"Location":"${location}",${pool.typeMember},"UniqueCount":${Math.max(1, count - rng.int(0, 3))}`;
    if (detailed) {
      // With ActivityFeed.ReadDlp the detections themselves are included; a bulk leak lists many.
      const giant = !ctx.bulk && rng.chance(0.001);
      const values = giant ? rng.int(1300, 1600) : Math.min(count, rng.int(1, 12));
      let list = "[";
      for (let j = 0; j < values; j++) {
        list += `${j === 0 ? "" : ","}${pool.values[rng.next() & 255]}`;
      }
      out += `,"SensitiveInformationDetections":{"DetectedValues":${list}],"ResultsTruncated":${values >= 1300}},"SensitiveInformationDetailedClassificationAttributes":[{"Confidence":${rng.pick(CONFIDENCE)},"Count":${count},"IsMatch":true}]`;
    }
    out += "}";
  }
  return `${out}]`;
}

const CONFIDENCE = [65, 75, 85];
const SEVERITIES = ["Low", "Medium", "High"];

function policyDetails(rng: Rng, ctx: RecordContext, detailed: boolean, location: string): string {
  const policy = rng.pick(POLICIES);
  const other = rng.chance(0.5)
    ? `"OtherConditions":[{"Name":"AccessScope","Value":"NotInOrganization"}],`
    : "";
  return `${policy.head}${rng.pick(ACTIONS)},"ActionParameters":[],"ConditionsMatched":{${other}"SensitiveInformation":${sensitiveInformation(rng, ctx, detailed, location)}},"ManagementRuleId":${qGuid(rng)},${rng.pick(policy.rules)},"Severity":"${rng.pick(SEVERITIES)}"}]}]`;
}

function exchangeDlp(ctx: RecordContext, rng: Rng, operation: string, detailed: boolean): void {
  const t = ctx.tenant;
  const sender = pickMember(rng, t);
  const messageId = `"<${hexish(rng, 40)}@${t.serverPrefix}${rng.int(1000, 9999)}.namprd${rng.int(10, 19)}.prod.outlook.com>"`;
  common(ctx, rng, {
    recordType: RECORD_TYPES.ComplianceDLPExchange,
    operation: enc(operation),
    userType: 4,
    userKey: '"DlpAgent"',
    workload: "Exchange",
    objectId: messageId,
    userId: sender.json.upn,
  });
  const f = ctx.fields;
  const to = rng.chance(0.6)
    ? `"partner${rng.int(1, 40)}@external.example"`
    : pickMember(rng, t).json.upn;
  f.push(
    `"IncidentId":${qGuid(rng)},"PolicyDetails":${policyDetails(rng, ctx, detailed, "Message Body")},"SensitiveInfoDetectionIsIncluded":${detailed}`,
    `"ExchangeMetaData":{"BCC":[],"CC":[],"FileSize":${rng.int(4_000, 9_000_000)},"From":${sender.json.upn},"MessageID":${messageId},"RecipientCount":1,"Sent":"${ctx.creationTime}","Subject":${rng.pick(SUBJECTS)},"To":[${to}],"UniqueID":${qGuid(rng)}}`,
  );
  if (operation === "DlpRuleUndo" || rng.chance(0.03)) {
    // Observed both as a JSON object and as JSON serialised into a string.
    const info = `{"Reason":"Override","Justification":"Business justification provided","Rules":[${qGuid(rng)}]}`;
    f.push(`"ExceptionInfo":${rng.chance(0.5) ? info : str(info)}`);
  }
}

const ASSISTANT_ONEDRIVE = '"DlpPolicyEventBasedAssistantOneDriveForBusiness"';
const ASSISTANT_SHAREPOINT = '"DlpPolicyEventBasedAssistant"';

function sharePointDlp(ctx: RecordContext, rng: Rng, operation: string, detailed: boolean): void {
  const t = ctx.tenant;
  const owner = pickMember(rng, t);
  const oneDrive = rng.chance(0.5);
  const file = rng.pick(FILES);
  const siteUrl = oneDrive ? owner.oneDrive.slice(0, -1) : rng.pick(t.sites).url;
  const uniqueId = guid(rng);
  const assistant = oneDrive ? ASSISTANT_ONEDRIVE : ASSISTANT_SHAREPOINT;
  common(ctx, rng, {
    recordType: RECORD_TYPES.ComplianceDLPSharePoint,
    operation: enc(operation),
    userType: 4,
    userKey: assistant,
    workload: oneDrive ? "OneDrive" : "SharePoint",
    objectId: `"${uniqueId}"`,
    userId: assistant,
  });
  const modified = ctx.creationMs - rng.int(1, 120) * 60_000;
  ctx.fields.push(
    `"IncidentId":${qGuid(rng)},"PolicyDetails":${policyDetails(rng, ctx, detailed, "Document")},"SensitiveInfoDetectionIsIncluded":${detailed}`,
    `"SharePointMetaData":{${file.member},"FileOwner":${owner.json.displayName},"FilePathUrl":"${siteUrl}/${oneDrive ? "Documents" : "Shared Documents"}/${file.path}","From":"${owner.upn.toUpperCase()}","ItemCreationTime":"${wireTime(modified - rng.int(1, 90) * 86_400_000)}","ItemLastModifiedTime":"${wireTime(modified)}","SiteCollectionGuid":${qGuid(rng)},"SiteCollectionUrl":"${siteUrl}","UniqueID":"${uniqueId}","IsViewableByExternalUsers":${rng.chance(0.2)},"IsVisibleOnlyToOdbOwner":${oneDrive && rng.chance(0.5)}}`,
  );
}

/** DLP.All: DLP rule matches (and undo/info events) for Exchange, SharePoint and OneDrive. */
export function dlpRecord(ctx: RecordContext, rng: Rng): void {
  const operation = DLP_OPS.pick(rng);
  // Half the events carry detections (SensitiveInfoDetectionIsIncluded); the API strips them for
  // apps without ActivityFeed.ReadDlp, which is the emulator server's concern.
  const detailed = rng.chance(0.5);
  if (rng.chance(0.55)) exchangeDlp(ctx, rng, operation, detailed);
  else sharePointDlp(ctx, rng, operation, detailed);
}
