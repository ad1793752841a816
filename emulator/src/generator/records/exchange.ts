import { RECORD_TYPES } from "../../microsoft/recordTypes";
import type { Rng } from "../prng";
import type { TenantModel, TenantUser } from "../tenant";
import {
  base64ish,
  cached,
  clientIp,
  common,
  enc,
  hexish,
  nameValueArray,
  pickMember,
  qGuid,
  type RecordContext,
  str,
  Weighted,
} from "./common";

/** Exchange system account that runs service-initiated cmdlets. */
const SYSTEM_ACCOUNT = "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)";
const SYSTEM_ACCOUNT_JSON = JSON.stringify(SYSTEM_ACCOUNT);

const FOLDERS = [
  "\\Inbox",
  "\\Sent Items",
  "\\Drafts",
  "\\Deleted Items",
  "\\Archive",
  "\\Inbox\\Projects",
  "\\Inbox\\Invoices",
  "\\Calendar",
  "\\Recoverable Items\\Deletions",
];
const SUBJECTS = [
  "Q3 forecast review",
  "Re: Contract renewal - final draft",
  "Invoice 48213 overdue",
  "Team offsite agenda",
  'FW: "Urgent" wire transfer request',
  "Weekly status report",
  "Re: Re: Customer escalation",
  "Welcome to the team!",
  "Präsentation für Montag",
  "Password expiry notice",
  "Lunch & learn: audit logging",
  "Board pack - confidential",
];
const ATTACHMENTS = [
  "forecast.xlsx (48213b)",
  "contract_v7.docx (120934b)",
  "invoice.pdf (88211b)",
  "image001.png (6012b)",
  "agenda.pdf (33129b)",
];
const CLIENT_INFO = [
  "Client=OWA;Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36;",
  "Client=MSExchangeRPC",
  "Client=REST;Client=RESTSystem;;",
  "Client=WebServices;Action=ConfigureGroupMailbox",
  "Client=OutlookService;Outlook-iOS/2.0;",
  "Client=ActiveSync;Apple-iPhone15C2/2105.258;",
];
const MAILBOX_ITEM_OPS = new Weighted([
  [30, "Update"],
  [20, "Create"],
  [14, "MoveToDeletedItems"],
  [10, "Move"],
  [10, "SoftDelete"],
  [6, "Send"],
  [4, "HardDelete"],
  [3, "SendAs"],
  [3, "UpdateInboxRules"],
] as const);

/** Exchange admin cmdlets with a function giving realistic parameters for each. */
const CMDLETS: (readonly [
  number,
  string,
  (rng: Rng, t: TenantModel, target: TenantUser) => [string, string][],
])[] = [
  [
    30,
    "Set-Mailbox",
    (rng, _t, target) => [
      ["Identity", target.upn],
      ...rng.pick<[string, string][]>([
        [["LitigationHoldEnabled", "True"]],
        [
          ["ProhibitSendQuota", "99 GB (106,300,440,576 bytes)"],
          ["IssueWarningQuota", "98 GB (105,226,698,752 bytes)"],
        ],
        [
          ["ForwardingSmtpAddress", `smtp:${target.alias}@partner.example`],
          ["DeliverToMailboxAndForward", "True"],
        ],
        [["AuditEnabled", "True"]],
        [["GrantSendOnBehalfTo", "finance-shared"]],
      ]),
    ],
  ],
  [
    12,
    "Add-MailboxPermission",
    (rng, t, target) => [
      ["Identity", target.upn],
      ["User", pickMember(rng, t).upn],
      ["AccessRights", "FullAccess"],
      ["InheritanceType", "All"],
      ["AutoMapping", rng.chance(0.5) ? "True" : "False"],
    ],
  ],
  [
    10,
    "New-InboxRule",
    (rng, _t, target) => [
      ["Mailbox", target.upn],
      ["Name", rng.pick(["Move newsletters", ".", "Invoices", "Auto forward"])],
      ["From", "billing@vendor.example"],
      ["MoveToFolder", `${target.upn}:\\Archive`],
      ["StopProcessingRules", "True"],
    ],
  ],
  [
    8,
    "Set-CASMailbox",
    (rng, _t, target) => [
      ["Identity", target.upn],
      ["ActiveSyncEnabled", rng.chance(0.5) ? "True" : "False"],
      ["PopEnabled", "False"],
      ["ImapEnabled", "False"],
    ],
  ],
  [
    8,
    "Set-TransportRule",
    (rng) => [
      ["Identity", rng.pick(["External sender warning", "Block executables", "Encrypt finance"])],
      ["Priority", String(rng.int(0, 9))],
      ["Mode", "Enforce"],
      ["SetAuditSeverity", "Medium"],
    ],
  ],
  [
    6,
    "Set-AdminAuditLogConfig",
    () => [
      ["UnifiedAuditLogIngestionEnabled", "True"],
      ["AdminAuditLogEnabled", "True"],
    ],
  ],
  [
    6,
    "Add-RecipientPermission",
    (rng, t, target) => [
      ["Identity", target.upn],
      ["Trustee", pickMember(rng, t).upn],
      ["AccessRights", "SendAs"],
      ["Confirm", "False"],
    ],
  ],
  [
    5,
    "Update-RoleGroupMember",
    (rng, t) => [
      ["Identity", rng.pick(["Organization Management", "Compliance Management", "View-Only"])],
      ["Members", `${pickMember(rng, t).alias};${pickMember(rng, t).alias}`],
    ],
  ],
  [
    5,
    "Set-OwaMailboxPolicy",
    () => [
      ["Identity", "OwaMailboxPolicy-Default"],
      ["AdditionalStorageProvidersAvailable", "False"],
    ],
  ],
  [
    5,
    "New-ManagementRoleAssignment",
    (rng, t) => [
      ["Role", rng.pick(["ApplicationImpersonation", "Mailbox Search", "Audit Logs"])],
      ["User", pickMember(rng, t).upn],
    ],
  ],
  [
    5,
    "Set-OrganizationConfig",
    () => [
      ["AuditDisabled", "False"],
      ["OAuth2ClientProfileEnabled", "True"],
    ],
  ],
];

const CMDLET_TABLE = new Weighted(CMDLETS.map((entry) => [entry[0], entry] as const));

function exchangeServer(rng: Rng, t: TenantModel): string {
  return `${t.serverPrefix}${rng.int(1000, 9999)} (15.20.${rng.int(7000, 8100)}.${String(rng.int(0, 40)).padStart(3, "0")})`;
}

/** JSON string literal of an Internet Message-ID. */
function internetMessageId(rng: Rng, t: TenantModel): string {
  return `"<${hexish(rng, 40)}@${t.serverPrefix}${rng.int(1000, 9999)}.namprd${rng.int(10, 19)}.prod.outlook.com>"`;
}

/** Mailbox folder paths, pre-encoded as JSON string literals. */
const FOLDERS_JSON = FOLDERS.map((folder) => JSON.stringify(folder));
const SUBJECTS_JSON = SUBJECTS.map((subject) => JSON.stringify(subject));
const CLIENT_INFO_JSON = CLIENT_INFO.map((info) => JSON.stringify(info));

/** `{"Id":…,"Path":…}` of a random folder. */
function folderJson(rng: Rng): string {
  return `{"Id":"${base64ish(rng, 64)}","Path":${rng.pick(FOLDERS_JSON)}}`;
}

function adminRecord(ctx: RecordContext, rng: Rng): void {
  const t = ctx.tenant;
  const system = rng.chance(0.25);
  const admin = system ? undefined : rng.pick(t.admins);
  const [, cmdlet, parameters] = CMDLET_TABLE.pick(rng);
  const target = pickMember(rng, t);
  common(ctx, rng, {
    recordType: RECORD_TYPES.ExchangeAdmin,
    operation: enc(cmdlet),
    userType: system ? 3 : 2,
    userKey: admin ? admin.json.puid : SYSTEM_ACCOUNT_JSON,
    workload: "Exchange",
    resultStatus: rng.chance(0.97) ? "True" : "False",
    objectId: str(`${t.exchangeOrgPath}/${target.alias}`),
    userId: admin ? admin.json.upn : SYSTEM_ACCOUNT_JSON,
    clientIp: admin ? clientIp(rng, admin) : undefined,
  });
  const f = ctx.fields;
  f.push(
    `"AppId":${system ? '""' : qGuid(rng)},"ClientAppId":"","ExternalAccess":${system},"OrganizationName":"${t.domain}","OriginatingServer":"${exchangeServer(rng, t)}"`,
  );
  let pairs = parameters(rng, t, target);
  // Rare: a transport rule whose parameters list thousands of blocked domains, pushing the record
  // past the 64 KB Log Analytics field limit.
  if (cmdlet === "Set-TransportRule" && !ctx.bulk && rng.chance(0.004)) {
    const domains: string[] = [];
    for (let i = 0; i < 4200; i++)
      domains.push(`blocked-${i}-${hexish(rng, 8).toLowerCase()}.example`);
    pairs = [...pairs, ["SenderDomainIs", domains.join(",")]];
  }
  if (rng.chance(0.03)) {
    // Some producers write Parameters as one PowerShell-style string instead of an array.
    f.push(`"Parameters":${str(pairs.map(([n, v]) => `-${n} "${v}"`).join(" "))}`);
  } else {
    f.push(`"Parameters":${nameValueArray(pairs)}`);
  }
  if (!system) f.push(`"SessionId":${qGuid(rng)}`);
}

/** Per mailbox owner: the owner members of mailbox records. */
const ownerMembers = new WeakMap<TenantUser, string>();

function mailboxBase(
  ctx: RecordContext,
  rng: Rng,
  owner: TenantUser,
  recordType: number,
  operation: string,
): void {
  const t = ctx.tenant;
  const delegate = rng.chance(0.08);
  const actor = delegate ? pickMember(rng, t) : owner;
  const ip = clientIp(rng, actor);
  common(ctx, rng, {
    recordType,
    operation: enc(operation),
    userType: 0,
    userKey: actor.json.puid,
    workload: "Exchange",
    resultStatus: "Succeeded",
    objectId:
      recordType === RECORD_TYPES.ExchangeItemAggregated
        ? undefined
        : str(`${owner.upn}${rng.pick(FOLDERS)}`),
    userId: actor.json.upn,
    clientIp: ip,
  });
  // Observed quirk: OriginatingServer often carries a trailing newline.
  const server = exchangeServer(rng, t);
  ctx.fields.push(
    `"AppId":${rng.chance(0.6) ? '"00000002-0000-0ff1-ce00-000000000000"' : qGuid(rng)},"ClientAppId":"","ClientIPAddress":${ip},"ClientInfoString":${rng.pick(CLIENT_INFO_JSON)},"ExternalAccess":false,"InternalLogonType":0,"LogonType":${delegate ? 2 : 0},"LogonUserSid":"${actor.sid}"`,
    cached(
      ownerMembers,
      owner,
      (o) =>
        `"MailboxGuid":"${o.mailboxGuid}","MailboxOwnerSid":"${o.sid}","MailboxOwnerUPN":${o.json.upn},"OrganizationName":"${t.domain}"`,
    ),
    `"OriginatingServer":"${server}${rng.chance(0.6) ? "\\n" : ""}","SessionId":${qGuid(rng)}`,
  );
}

function itemJson(rng: Rng, ctx: RecordContext): string {
  let item = `{"Id":"${base64ish(rng, 152)}","InternetMessageId":${internetMessageId(rng, ctx.tenant)},"IsRecord":false,"ParentFolder":${folderJson(rng)},"SizeInBytes":${rng.int(2_000, 4_000_000)},"Subject":${rng.pick(SUBJECTS_JSON)}`;
  if (rng.chance(0.3)) {
    const n = rng.int(1, 4);
    let list = rng.pick(ATTACHMENTS);
    for (let i = 1; i < n; i++) list += `; ${rng.pick(ATTACHMENTS)}`;
    item += `,"Attachments":"${list}"`;
  }
  if (rng.chance(0.1)) item += `,"ImmutableId":"${base64ish(rng, 88)}"`;
  return `${item}}`;
}

function mailboxItemRecord(ctx: RecordContext, rng: Rng): void {
  const owner = pickMember(rng, ctx.tenant);
  const operation = MAILBOX_ITEM_OPS.pick(rng);
  mailboxBase(ctx, rng, owner, RECORD_TYPES.ExchangeItem, operation);
  const f = ctx.fields;
  if (operation === "Move" || operation === "MoveToDeletedItems") {
    f.push(`"DestFolder":${folderJson(rng)}`);
  } else if (operation === "Update") {
    f.push(
      `"ModifiedProperties":${rng.chance(0.5) ? '["IsRead"]' : '["Categories","FlagStatus"]'}`,
    );
  }
  f.push(`"Item":${itemJson(rng, ctx)}`);
}

function mailboxGroupRecord(ctx: RecordContext, rng: Rng): void {
  const owner = pickMember(rng, ctx.tenant);
  const operation = rng.pick(["SoftDelete", "HardDelete", "MoveToDeletedItems", "Move"]);
  mailboxBase(ctx, rng, owner, RECORD_TYPES.ExchangeItemGroup, operation);
  const n = rng.int(2, 8);
  let items = "[";
  for (let i = 0; i < n; i++) {
    items += `${i === 0 ? "" : ","}{"Id":"${base64ish(rng, 152)}","InternetMessageId":${internetMessageId(rng, ctx.tenant)},"ParentFolder":${folderJson(rng)},"Subject":${rng.pick(SUBJECTS_JSON)}}`;
  }
  ctx.fields.push(
    `"AffectedItems":${items}]`,
    `"CrossMailboxOperation":false,"Folder":${folderJson(rng)}`,
  );
}

function mailItemsAccessedRecord(ctx: RecordContext, rng: Rng): void {
  const owner = pickMember(rng, ctx.tenant);
  mailboxBase(ctx, rng, owner, RECORD_TYPES.ExchangeItemAggregated, "MailItemsAccessed");
  const f = ctx.fields;
  const sync = rng.chance(0.15);
  f.push(
    `"OperationProperties":[{"Name":"MailAccessType","Value":"${sync ? "Sync" : "Bind"}"},{"Name":"IsThrottled","Value":"False"}]`,
  );
  if (sync) {
    f.push(
      `"Item":{"Id":"${base64ish(rng, 64)}","ParentFolder":${folderJson(rng)}},"OperationCount":1`,
    );
    return;
  }
  // A Bind lists the items read, grouped by folder; a busy session lists dozens (tens of KB).
  const heavy = !ctx.bulk && rng.chance(0.02);
  const folders = heavy ? rng.int(1, 3) : 1;
  let out = "[";
  let total = 0;
  for (let i = 0; i < folders; i++) {
    const items = heavy ? rng.int(10, 40) : rng.int(1, 3);
    let list = "[";
    for (let j = 0; j < items; j++) {
      list += `${j === 0 ? "" : ","}{"Id":"${base64ish(rng, 152)}","InternetMessageId":${internetMessageId(rng, ctx.tenant)},"SizeInBytes":${rng.int(3_000, 900_000)}}`;
    }
    total += items;
    out += `${i === 0 ? "" : ","}{"FolderItems":${list}],"Id":"${base64ish(rng, 64)}","Path":${rng.pick(FOLDERS_JSON)}}`;
  }
  f.push(`"Folders":${out}]`, `"OperationCount":${total}`);
}

/** Audit.Exchange: mailbox access, item changes and admin cmdlets. */
export function exchangeRecord(ctx: RecordContext, rng: Rng): void {
  const r = rng.float();
  if (r < 0.38) mailItemsAccessedRecord(ctx, rng);
  else if (r < 0.72) mailboxItemRecord(ctx, rng);
  else if (r < 0.82) mailboxGroupRecord(ctx, rng);
  else adminRecord(ctx, rng);
}
