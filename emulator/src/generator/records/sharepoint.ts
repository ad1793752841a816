import { RECORD_TYPES } from "../../microsoft/recordTypes";
import type { Rng } from "../prng";
import type { TenantSite, TenantUser } from "../tenant";
import {
  base64ish,
  cached,
  clientIp,
  common,
  enc,
  pickMember,
  pickUser,
  qGuid,
  type RecordContext,
  Weighted,
} from "./common";

/** File name, extension: pre-encoded as the SourceFileName/SourceFileExtension members. */
const FILES = [
  ["Budget 2027.xlsx", "xlsx"],
  ["Quarterly Review.pptx", "pptx"],
  ["Contract - Northwind Traders.docx", "docx"],
  ["Meeting notes.docx", "docx"],
  ["Invoice_48213.pdf", "pdf"],
  ["Roadmap v3.pptx", "pptx"],
  ["Onboarding checklist.docx", "docx"],
  ["Headcount plan.xlsx", "xlsx"],
  ["Screenshot 2026-03-02 101522.png", "png"],
  ["Präsentation Vertrieb.pptx", "pptx"],
  ["design-spec.md", "md"],
  ["export.csv", "csv"],
  ["Signed NDA.pdf", "pdf"],
].map(([name, ext]) => ({
  name: name!,
  members: `"SourceFileExtension":"${ext}","SourceFileName":${JSON.stringify(name)}`,
}));
/**
 * A file name outside Latin-1, used now and then: it makes the blob text two-byte and its UTF-8
 * multi-byte, which collectors must decode across chunk boundaries.
 */
const RARE_FILE = {
  name: "見積書.xlsx",
  members: `"SourceFileExtension":"xlsx","SourceFileName":${JSON.stringify("見積書.xlsx")}`,
};

function pickFile(rng: Rng): (typeof FILES)[number] {
  return rng.next() % 200 === 0 ? RARE_FILE : rng.pick(FILES);
}

const SITE_FOLDERS = [
  "Shared Documents",
  "Shared Documents/General",
  "Shared Documents/Reports",
  "Shared Documents/Archive/2026",
];
const FILE_OPS = new Weighted([
  [34, "FileAccessed"],
  [16, "FileModified"],
  [10, "FilePreviewed"],
  [8, "FileUploaded"],
  [8, "FileDownloaded"],
  [5, "FileAccessedExtended"],
  [4, "FileDeleted"],
  [3, "FileRenamed"],
  [3, "FileMoved"],
  [3, "FileCheckedIn"],
  [3, "FileSyncDownloadedFull"],
  [3, "FileRecycled"],
] as const);
const SHARING_OPS = new Weighted([
  [25, "SharingSet"],
  [20, "AddedToSecureLink"],
  [15, "SecureLinkCreated"],
  [12, "SharingInvitationCreated"],
  [8, "CompanyLinkCreated"],
  [6, "AnonymousLinkCreated"],
  [6, "AddedToGroup"],
  [4, "SharingInheritanceBroken"],
  [4, "SharingRevoked"],
] as const);
const PAGE_OPS = new Weighted([
  [70, "PageViewed"],
  [15, "SearchQueryPerformed"],
  [8, "PageViewedExtended"],
  [7, "ClientViewSignaled"],
] as const);
const LIST_OPS = [
  "ListViewed",
  "ListUpdated",
  "ListCreated",
  "ListItemViewed",
  "ListColumnCreated",
];
const SEARCHES = ["budget", "contract renewal", "salary", '"board pack"', "roadmap"];
/** Client applications acting on files, with their well-known application ids. */
const APPS: [name: string, id: string][] = [
  ["Microsoft SharePoint Online Web Client Extensibility", "08e18876-6177-487e-b8b5-cf950c1e598c"],
  ["Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264"],
  ["OneDrive SyncEngine", "ab9b8c07-8f02-4f72-87fa-80105867a763"],
  ["Microsoft Office", "d3590ed6-52b3-4102-aeff-aad2292ab01c"],
];
/** SharePoint's app principal for system-initiated actions (no ClientIP, no UserAgent). */
const APP_AT_SHAREPOINT = JSON.stringify(
  "i:0i.t|00000003-0000-0ff1-ce00-000000000000|app@sharepoint",
);

/** Where an action happened; `members` holds the location members, encoded once per place. */
interface Place {
  workload: "SharePoint" | "OneDrive";
  siteUrl: string;
  folders: readonly string[];
  /** `"ListId":…,"Site":…,"WebId":…` */
  members: string;
  /** `"SiteUrl":…` */
  siteUrlMember: string;
  listServerTemplate: number;
}

const oneDrivePlaces = new WeakMap<TenantUser, Place>();
const sitePlaces = new WeakMap<TenantSite, Place>();

function oneDrivePlace(user: TenantUser): Place {
  let p = oneDrivePlaces.get(user);
  if (p === undefined) {
    p = {
      workload: "OneDrive",
      siteUrl: user.oneDrive,
      folders: ["Documents", "Documents/Notes", "Documents/Desktop"],
      members: `"ListId":"${user.mailboxGuid}","Site":"${user.oneDriveSiteId}","WebId":"${user.objectId}"`,
      siteUrlMember: `"SiteUrl":${JSON.stringify(user.oneDrive)}`,
      listServerTemplate: 700,
    };
    oneDrivePlaces.set(user, p);
  }
  return p;
}

function sitePlace(site: TenantSite): Place {
  let p = sitePlaces.get(site);
  if (p === undefined) {
    const url = `${site.url}/`;
    p = {
      workload: "SharePoint",
      siteUrl: url,
      folders: SITE_FOLDERS,
      members: `"ListId":"${site.listId}","Site":"${site.siteId}","WebId":"${site.webId}"`,
      siteUrlMember: `"SiteUrl":${JSON.stringify(url)}`,
      listServerTemplate: 101,
    };
    sitePlaces.set(site, p);
  }
  return p;
}

function place(rng: Rng, ctx: RecordContext, user: TenantUser): Place {
  return rng.chance(0.45) ? oneDrivePlace(user) : sitePlace(rng.pick(ctx.tenant.sites));
}

/** Per user and client app: the client members every interactive SharePoint record carries. */
const clientMembers = APPS.map(() => new WeakMap<TenantUser, string>());
function clientBlock(rng: Rng, user: TenantUser): [string, string] {
  const i = rng.next() & 3;
  const [appName, appId] = APPS[i]!;
  const members = cached(clientMembers[i]!, user, (u) => {
    const [browserName, browserVersion = ""] = u.browser.split(" ");
    const platform = u.os === "Ios" ? "iOS" : u.os === "MacOs" ? "MacOS" : "WinDesktop";
    return `"UserAgent":${u.json.userAgent},"ApplicationDisplayName":"${appName}","ApplicationId":"${appId}","AuthenticationType":"OAuth","BrowserName":"${browserName}","BrowserVersion":"${browserVersion}","DeviceDisplayName":${u.json.ipv4},"GeoLocation":"NAM","Platform":"${platform}"`;
  });
  return [members, `"ClientAppId":"${appId}","ClientAppName":"${appName}"`];
}

const userKeys = new WeakMap<TenantUser, string>();

/**
 * The members every SharePoint/OneDrive record carries after the common schema. `objectId` is
 * spliced without escaping: it is built from tenant URLs and pool names, none of which holds a
 * quote, a backslash or a control character.
 */
function sharePointCommon(
  ctx: RecordContext,
  rng: Rng,
  p: Place,
  user: TenantUser | undefined,
  recordType: number,
  operation: string,
  objectId: string,
  itemType: string,
): void {
  const f = ctx.fields;
  if (user === undefined) {
    common(ctx, rng, {
      recordType,
      operation: enc(operation),
      userType: 0,
      userKey: APP_AT_SHAREPOINT,
      workload: p.workload,
      objectId: `"${objectId}"`,
      userId: '"app@sharepoint"',
      // Observed: system actions by app@sharepoint carry an empty ClientIP and UserAgent.
      clientIp: '""',
    });
    f.push(
      `"CorrelationId":${qGuid(rng)},"EventSource":"SharePoint","ItemType":"${itemType}",${p.members},"ListItemUniqueId":${qGuid(rng)},"UserAgent":""`,
    );
    return;
  }
  common(ctx, rng, {
    recordType,
    operation: enc(operation),
    userType: 0,
    userKey: cached(userKeys, user, (u) => `"i:0h.f|membership|${u.puid.toLowerCase()}@live.com"`),
    workload: p.workload,
    objectId: `"${objectId}"`,
    userId: user.json.upn,
    clientIp: clientIp(rng, user),
  });
  const [client, app] = clientBlock(rng, user);
  f.push(
    `"CorrelationId":${qGuid(rng)},"EventSource":"SharePoint","ItemType":"${itemType}",${p.members},"ListItemUniqueId":${qGuid(rng)}`,
    client,
    `"IsManagedDevice":${rng.chance(0.7)},"AppAccessContext":{"AADSessionId":${qGuid(rng)},${app},"CorrelationId":${qGuid(rng)},"UniqueTokenId":"${base64ish(rng, 22)}"},"HighPriorityMediaProcessing":false,"SiteSensitivityLabelId":""`,
  );
}

function fileRecord(ctx: RecordContext, rng: Rng, operation: string): void {
  const user = pickUser(rng, ctx.tenant);
  const p = place(rng, ctx, user);
  const file = pickFile(rng);
  const folder = rng.pick(p.folders);
  sharePointCommon(
    ctx,
    rng,
    p,
    user,
    RECORD_TYPES.SharePointFileOperation,
    operation,
    `${p.siteUrl}${folder}/${file.name}`,
    "File",
  );
  const f = ctx.fields;
  f.push(
    `${p.siteUrlMember},${file.members},"SourceRelativeUrl":${enc(folder)},"ListBaseType":1,"ListServerTemplate":${p.listServerTemplate},"DoNotDistributeEvent":true,"FromApp":false,"FileSizeBytes":${rng.int(8_000, 40_000_000)}`,
  );
  if (operation === "FileRenamed" || operation === "FileMoved") {
    const dest = pickFile(rng);
    f.push(
      `"DestinationFileExtension":${enc(dest.name.slice(dest.name.lastIndexOf(".") + 1))},"DestinationFileName":${enc(dest.name)},"DestinationRelativeUrl":${enc(rng.pick(p.folders))}`,
    );
  } else if (operation === "FileModified" || operation === "FileUploaded") {
    f.push(`"ListItemVersion":"${rng.int(1, 40)}.0"`);
  }
}

function sharingRecord(ctx: RecordContext, rng: Rng): void {
  const operation = SHARING_OPS.pick(rng);
  const toGroup = operation === "AddedToGroup";
  const user = toGroup && rng.chance(0.6) ? undefined : pickMember(rng, ctx.tenant);
  const p = place(rng, ctx, user ?? pickMember(rng, ctx.tenant));
  const file = pickFile(rng);
  const folder = rng.pick(p.folders);
  const objectId = toGroup ? p.siteUrl : `${p.siteUrl}${folder}/${file.name}`;
  sharePointCommon(
    ctx,
    rng,
    p,
    user,
    RECORD_TYPES.SharePointSharingOperation,
    operation,
    objectId,
    toGroup ? "Web" : "File",
  );
  const guest = rng.chance(0.25);
  const target = guest
    ? `"partner${rng.int(1, 40)}@external.example"`
    : toGroup
      ? '"Everyone except external users"'
      : pickMember(rng, ctx.tenant).json.upn;
  const targetType = guest ? "Guest" : toGroup ? "SecurityGroup" : "Member";
  const permission = rng.pick(["Read", "Edit", "Review"]);
  // EventData is XML inside a JSON string.
  const eventData = toGroup
    ? "<Group>Site Members</Group>"
    : `<Type>${permission}</Type><MembersCanShare>Enabled</MembersCanShare>`;
  ctx.fields.push(
    `${p.siteUrlMember},"TargetUserOrGroupName":${target},"TargetUserOrGroupType":"${targetType}","EventData":"${eventData}"`,
  );
  if (!toGroup) {
    ctx.fields.push(`${file.members},"UniqueSharingId":${qGuid(rng)},"Permission":"${permission}"`);
  }
}

function pageRecord(ctx: RecordContext, rng: Rng): void {
  const operation = PAGE_OPS.pick(rng);
  const user = pickUser(rng, ctx.tenant);
  const p = place(rng, ctx, user);
  const objectId =
    p.workload === "OneDrive"
      ? `${p.siteUrl}_layouts/15/onedrive.aspx`
      : `${p.siteUrl}SitePages/Home.aspx`;
  sharePointCommon(ctx, rng, p, user, RECORD_TYPES.SharePoint, operation, objectId, "Page");
  if (operation === "SearchQueryPerformed") {
    ctx.fields.push(`"SearchQueryText":${enc(rng.pick(SEARCHES))}`);
  }
  ctx.fields.push(`"CustomUniqueId":${rng.chance(0.5)}`);
}

function listRecord(ctx: RecordContext, rng: Rng): void {
  const user = pickUser(rng, ctx.tenant);
  const p = sitePlace(rng.pick(ctx.tenant.sites));
  const list = `${p.siteUrl}Lists/Tasks`;
  sharePointCommon(
    ctx,
    rng,
    p,
    user,
    RECORD_TYPES.SharePointListOperation,
    rng.pick(LIST_OPS),
    list,
    "List",
  );
  ctx.fields.push(`"ListTitle":"Tasks","ListUrl":"${list}","ListBaseTemplateType":"100"`);
}

/** Audit.SharePoint: SharePoint and OneDrive file, sharing, page and list activity. */
export function sharePointRecord(ctx: RecordContext, rng: Rng): void {
  if (ctx.bulk) {
    fileRecord(ctx, rng, FILE_OPS.pick(rng));
    return;
  }
  const r = rng.float();
  if (r < 0.64) fileRecord(ctx, rng, FILE_OPS.pick(rng));
  else if (r < 0.78) sharingRecord(ctx, rng);
  else if (r < 0.93) pageRecord(ctx, rng);
  else listRecord(ctx, rng);
}
