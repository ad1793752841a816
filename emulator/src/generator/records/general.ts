import { RECORD_TYPES } from "../../microsoft/recordTypes";
import { hex32, type Rng, randomGuid } from "../prng";
import {
  clientIp,
  common,
  enc,
  pickMember,
  pickUser,
  q,
  qGuid,
  type RecordContext,
  str,
  Weighted,
  wireTime,
} from "./common";

const TEAMS_OPS = new Weighted([
  [24, "MessageSent"],
  [14, "MeetingParticipantDetail"],
  [10, "ChatCreated"],
  [10, "MemberAdded"],
  [8, "MessageEditedHasLink"],
  [6, "ChannelAdded"],
  [6, "MeetingDetail"],
  [5, "MemberRemoved"],
  [5, "AppInstalled"],
  [4, "TabAdded"],
  [4, "TeamSettingChanged"],
  [2, "TeamCreated"],
  [2, "MemberRoleChanged"],
] as const);
const POWER_BI_OPS = new Weighted([
  [50, "ViewReport"],
  [20, "ViewDashboard"],
  [10, "ExportReport"],
  [8, "CreateArtifact"],
  [7, "ShareReport"],
  [5, "RefreshDataset"],
] as const);
const REPORTS = [
  "Sales Pipeline",
  "Revenue by Region",
  "Headcount",
  "Support Backlog",
  "Audit Coverage",
];
const WORKSPACES = ["Finance Analytics", "Sales Ops", "HR Insights", "Executive"];
const COPILOT_HOSTS = ["Teams", "Word", "Outlook", "Excel", "PowerPoint", "Bing"];
const YAMMER_OPS = [
  "MessageCreated",
  "FileVisited",
  "GroupCreation",
  "MessageLiked",
  "FileUploaded",
];
const FORMS_OPS = ["ViewForm", "CreateForm", "EditForm", "ViewResponses", "ExportForm"];

function teamsRecord(ctx: RecordContext, rng: Rng): void {
  const t = ctx.tenant;
  const user = pickUser(rng, t);
  const team = rng.pick(t.teams);
  const channel = rng.pick(team.channels);
  const operation: string = TEAMS_OPS.pick(rng);
  const meeting = operation.startsWith("Meeting");
  const chat = operation === "ChatCreated" || (operation === "MessageSent" && rng.chance(0.5));
  common(ctx, rng, {
    recordType: RECORD_TYPES.MicrosoftTeams,
    operation: enc(operation),
    userType: 0,
    userKey: user.json.objectId,
    workload: "MicrosoftTeams",
    resultStatus: meeting || chat ? undefined : "Succeeded",
    // Teams reports the client address with its port more often than other workloads.
    clientIp: operation === "MemberAdded" ? undefined : clientIp(rng, user, 3),
    userId: user.json.upn,
  });
  const f = ctx.fields;
  f.push(
    `"CommunicationType":${q(meeting ? "GroupChat" : chat ? rng.pick(["OneOnOne", "GroupChat"]) : "Team")}`,
  );
  if (!chat && !meeting) {
    f.push(`"AADGroupId":${q(team.groupId)}`);
    f.push(`"TeamGuid":${q(team.teamGuid)}`);
    f.push(`"TeamName":${str(team.name)}`);
    f.push(`"ChannelGuid":${q(channel.id)}`);
    f.push(`"ChannelName":${q(channel.name)}`);
    f.push(`"ChannelType":"Standard"`);
  }
  if (operation === "MemberAdded" || operation === "MemberRemoved" || operation === "TeamCreated") {
    const n = rng.int(1, 5);
    let members = "[";
    for (let i = 0; i < n; i++) {
      const m = pickUser(rng, t);
      members += `${i === 0 ? "" : ","}{"DisplayName":${str(m.displayName)},"Role":${rng.int(1, 2)},"UPN":${q(m.upn)}}`;
    }
    f.push(`"Members":${members}]`);
    f.push(`"ItemName":${str(team.name)}`);
  }
  if (
    operation === "MessageSent" ||
    operation === "MessageEditedHasLink" ||
    operation === "ChatCreated"
  ) {
    f.push(`"ChatThreadId":${q(`19:${randomGuid(rng)}_${user.objectId}@unq.gbl.spaces`)}`);
    f.push(`"MessageId":"${rng.int(1_700_000_000, 1_800_000_000)}${rng.int(100, 999)}"`);
    f.push(`"MessageSizeInBytes":${rng.int(200, 9000)}`);
    if (operation === "MessageEditedHasLink") {
      f.push(
        `"MessageURLs":["https://contoso-partner.example/proposal","https://${t.orgName}.sharepoint.com/sites/Projects"]`,
      );
    }
    f.push(
      `"ParticipantInfo":{"HasForeignTenantUsers":${rng.chance(0.1)},"HasGuestUsers":${rng.chance(0.1)},"HasOtherGuestUsers":false,"HasUnauthenticatedUsers":false,"ParticipatingDomains":[],"ParticipatingSIPDomains":[],"ParticipatingTenantIds":[${q(t.tenantId)}]}`,
    );
  }
  if (meeting) {
    const start = ctx.creationMs - rng.int(10, 90) * 60_000;
    f.push(`"MeetingDetailId":${qGuid(rng)}`);
    f.push(`"JoinTime":"${wireTime(start)}Z","LeaveTime":"${ctx.creationTime}Z"`);
    f.push(`"DeviceInformation":${q(user.os === "Ios" ? "iOS" : "Windows")}`);
    f.push(
      `"Attendees":[{"DisplayName":${str(user.displayName)},"OrganizationId":${q(t.tenantId)},"RecipientType":"User","UPN":${q(user.upn)}}]`,
    );
    f.push(`"ArtifactsShared":[]`);
  }
  if (operation === "AppInstalled" || operation === "TabAdded") {
    f.push(`"AddOnGuid":${qGuid(rng)}`);
    f.push(`"AddOnName":${q(rng.pick(["Planner", "Forms", "Jira Cloud", "OneNote"]))}`);
    f.push(`"AddOnType":${rng.int(1, 4)}`);
  }
  if (operation === "TeamSettingChanged") {
    f.push(`"Name":"Team access type"`);
    f.push(`"OldValue":"Private"`);
    f.push(`"NewValue":"Public"`);
  }
}

function powerBiRecord(ctx: RecordContext, rng: Rng): void {
  const t = ctx.tenant;
  const user = pickMember(rng, t);
  const operation: string = POWER_BI_OPS.pick(rng);
  const report = rng.pick(REPORTS);
  const workspace = rng.pick(WORKSPACES);
  const artifactId = randomGuid(rng);
  common(ctx, rng, {
    recordType: RECORD_TYPES.PowerBIAudit,
    operation: enc(operation),
    userType: 0,
    userKey: user.json.puid,
    workload: "PowerBI",
    resultStatus: operation === "RefreshDataset" ? "InProgress" : undefined,
    objectId: enc(report),
    userId: user.json.upn,
    clientIp: clientIp(rng, user),
  });
  const f = ctx.fields;
  f.push(`"UserAgent":${str(user.userAgent)}`);
  f.push(`"Activity":${q(operation)}`);
  f.push(`"ItemName":${str(report)}`);
  f.push(`"WorkSpaceName":${str(workspace)}`);
  f.push(`"DatasetName":${str(report)}`);
  f.push(`"ReportName":${str(report)}`);
  f.push(`"CapacityId":${qGuid(rng)}`);
  f.push(`"CapacityName":"Premium Per User - Reserved"`);
  f.push(`"WorkspaceId":${qGuid(rng)}`);
  f.push(`"ObjectType":"Report"`);
  f.push(`"DatasetId":${qGuid(rng)}`);
  f.push(`"ReportId":${q(artifactId)}`);
  f.push(`"ArtifactId":${q(artifactId)}`);
  f.push(`"ArtifactName":${str(report)}`);
  f.push(`"IsSuccess":true`);
  f.push(`"ReportType":"PowerBIReport"`);
  f.push(`"RequestId":${qGuid(rng)}`);
  f.push(`"ActivityId":${qGuid(rng)}`);
  f.push(`"DistributionMethod":${q(rng.pick(["Workspace", "Shared", "App"]))}`);
  f.push(`"ConsumptionMethod":"Power BI Web"`);
  if (operation === "CreateArtifact" || rng.chance(0.1)) {
    // Observed: some Power BI/Fabric properties arrive as JSON serialised into a string.
    f.push(
      `"OperationProperties":${str(`[{"Name":"SystemArtifactType","Value":"None"},{"Name":"ArtifactKind","Value":"${rng.pick(["Report", "Lakehouse", "Notebook"])}"}]`)}`,
    );
  }
}

function copilotRecord(ctx: RecordContext, rng: Rng): void {
  const t = ctx.tenant;
  const user = pickMember(rng, t);
  const host = rng.pick(COPILOT_HOSTS);
  common(ctx, rng, {
    recordType: RECORD_TYPES.CopilotInteraction,
    operation: '"CopilotInteraction"',
    userType: 0,
    userKey: user.json.objectId,
    workload: "Copilot",
    userId: user.json.upn,
    clientIp: clientIp(rng, user),
  });
  const n = rng.int(0, 4);
  let resources = "[";
  for (let i = 0; i < n; i++) {
    const site = rng.pick(t.sites);
    resources += `${i === 0 ? "" : ","}{"Action":"Read","Id":${qGuid(rng)},"Name":${str(`${site.title} overview.docx`)},"SiteUrl":${q(`${site.url}/Shared Documents/${site.title} overview.docx`)},"Type":"docx"}`;
  }
  const threadId = `19:${hex32(rng.next())}${hex32(rng.next())}@thread.v2`;
  ctx.fields.push(
    `"CopilotEventData":{"AISystemPlugin":[],"AccessedResources":${resources}],"AppHost":${q(host)},"Contexts":[{"Id":${q(threadId)},"Type":"TeamsChat"}],"MessageIds":["${rng.int(1_700_000_000, 1_800_000_000)}${rng.int(100, 999)}"],"ModelTransparencyDetails":[{"ModelName":"GPT-4"}],"ThreadId":${q(threadId)}}`,
  );
  ctx.fields.push(`"AppIdentity":${q(`Copilot.${host}.BizChat`)}`);
}

function yammerRecord(ctx: RecordContext, rng: Rng): void {
  const t = ctx.tenant;
  const user = pickMember(rng, t);
  const operation = rng.pick(YAMMER_OPS);
  const group = rng.pick(t.teams).name;
  common(ctx, rng, {
    recordType: RECORD_TYPES.Yammer,
    operation: enc(operation),
    userType: 0,
    userKey: `"${user.puid.toLowerCase()}"`,
    workload: "Yammer",
    // Observed values: "TRUE" for Viva Engage.
    resultStatus: "TRUE",
    objectId: enc(group),
    userId: user.json.upn,
    clientIp: clientIp(rng, user, 4),
  });
  const f = ctx.fields;
  f.push(`"ActorUserId":${q(user.upn)}`);
  f.push(`"ActorYammerUserId":${user.yammerUserId}`);
  f.push(`"YammerNetworkId":${t.yammerNetworkId}`);
  f.push(`"GroupName":${str(group)}`);
  if (operation === "MessageCreated" || operation === "MessageLiked") {
    f.push(`"MessageId":${rng.int(1_000_000, 9_999_999) * 1000 + rng.int(0, 999)}`);
  }
  if (operation === "FileVisited" || operation === "FileUploaded") {
    f.push(`"FileId":${rng.int(100_000, 999_999) * 1000}`);
    f.push(`"FileName":"${rng.pick(["logo.png", "agenda.pdf", "photo.jpg"])}"`);
  }
}

function formsRecord(ctx: RecordContext, rng: Rng): void {
  const t = ctx.tenant;
  const user = pickMember(rng, t);
  const operation = rng.pick(FORMS_OPS);
  const formId = `${hex32(rng.next())}${hex32(rng.next())}`;
  common(ctx, rng, {
    recordType: RECORD_TYPES.MicrosoftForms,
    operation: enc(operation),
    userType: 0,
    userKey: user.json.objectId,
    workload: "MicrosoftForms",
    objectId: q(formId),
    userId: user.json.upn,
    clientIp: clientIp(rng, user),
  });
  const f = ctx.fields;
  f.push(`"FormId":${q(formId)}`);
  f.push(`"FormName":${str(rng.pick(["Offsite survey", "IT request", "Event RSVP", "Feedback"]))}`);
  f.push(`"FormTypes":["Form"]`);
  f.push(`"SourceApp":"Microsoft Forms"`);
}

/** Audit.General: Teams, Power BI, Copilot, Viva Engage (Yammer) and Forms. */
export function generalRecord(ctx: RecordContext, rng: Rng): void {
  const r = rng.float();
  if (r < 0.52) teamsRecord(ctx, rng);
  else if (r < 0.7) powerBiRecord(ctx, rng);
  else if (r < 0.86) copilotRecord(ctx, rng);
  else if (r < 0.94) yammerRecord(ctx, rng);
  else formsRecord(ctx, rng);
}
