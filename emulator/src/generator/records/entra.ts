import { RECORD_TYPES } from "../../microsoft/recordTypes";
import { hex32, Rng, randomGuid } from "../prng";
import type { TenantUser } from "../tenant";
import {
  cached,
  clientIp,
  common,
  enc,
  guid,
  nameValueArray,
  pickMember,
  pickUser,
  preciseTime,
  prettyJsonInString,
  q,
  qGuid,
  type RecordContext,
  str,
  Weighted,
} from "./common";

/** Resource apps users sign in to (well-known first-party application ids). */
const RESOURCES = [
  "00000003-0000-0000-c000-000000000000", // Microsoft Graph
  "00000002-0000-0ff1-ce00-000000000000", // Office 365 Exchange Online
  "00000003-0000-0ff1-ce00-000000000000", // Office 365 SharePoint Online
  "c5393580-f805-4401-95e8-94b7a6ef2fc2", // Office 365 Management APIs
];
/** Client apps users sign in with. */
const CLIENT_APPS = [
  "d3590ed6-52b3-4102-aeff-aad2292ab01c", // Microsoft Office
  "1fec8e78-bce4-4aaf-ab1b-5451cc387264", // Microsoft Teams
  "4345a7b9-9a63-4910-a426-35363201d503", // Office web
  "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", // Azure portal
  "27922004-5251-4030-b22d-91ecd9a37ea4", // Outlook mobile
  "ab9b8c07-8f02-4f72-87fa-80105867a763", // OneDrive sync
];
const REQUEST_TYPES = [
  "OAuth2:Token",
  "OAuth2:Authorize",
  "Login:login",
  "Kmsi:kmsi",
  "SAS:ProcessAuth",
];
const LOGON_FAILURES: [number, string][] = [
  [50126, "InvalidUserNameOrPassword"],
  [50074, "UserStrongAuthClientAuthNRequiredInterrupt"],
  [50140, "KmsiInterrupt"],
  [500121, "AuthenticationFailedSasError"],
  [50053, "IdsLocked"],
];
const DIRECTORY_OPS = new Weighted([
  [22, "Update user."],
  [16, "Add member to group."],
  [8, "Remove member from group."],
  [8, "Change user license."],
  [7, "Add user."],
  [6, "Reset user password."],
  [6, "Update application."],
  [5, "Consent to application."],
  [5, "Add app role assignment to service principal."],
  [4, "Add service principal."],
  // The trailing space is in the real operation name.
  [1, "Update application – Certificates and secrets management "],
  [3, "Delete user."],
  [3, "Add delegated permission grant."],
] as const);
const SERVICE_PLANS = [
  "EXCHANGE_S_ENTERPRISE",
  "SHAREPOINTENTERPRISE",
  "TEAMS1",
  "MCOSTANDARD",
  "YAMMER_ENTERPRISE",
  "POWERAPPS_O365_P2",
  "FLOW_O365_P2",
  "OFFICESUBSCRIPTION",
  "M365_AUDIT_PLATFORM",
  "INFORMATION_BARRIERS",
];
const GROUPS = ["All Staff", "Finance Approvers", "VPN Users", "Sales EMEA", "Global Admins (PIM)"];

const actorArrays = new WeakMap<TenantUser, string>();
const userAgentMembers = new WeakMap<TenantUser, string>();
const deviceMembers = new WeakMap<TenantUser, string>();
const REQUEST_TYPES_JSON = REQUEST_TYPES.map((type) => `{"Name":"RequestType","Value":"${type}"}`);
const CLIENT_APPS_MEMBERS = CLIENT_APPS.map((id) => `"ApplicationId":"${id}"`);

function logonRecord(ctx: RecordContext, rng: Rng): void {
  const t = ctx.tenant;
  const user = pickUser(rng, t);
  const failed = rng.chance(0.12);
  const resource = rng.pick(RESOURCES);
  const ip = clientIp(rng, user);
  common(ctx, rng, {
    recordType: RECORD_TYPES.AzureActiveDirectoryStsLogon,
    operation: failed ? '"UserLoginFailed"' : '"UserLoggedIn"',
    userType: 0,
    userKey: user.json.objectId,
    workload: "AzureActiveDirectory",
    resultStatus: failed ? "Failed" : "Success",
    objectId: `"${resource}"`,
    userId: user.json.upn,
    clientIp: ip,
  });
  const userAgent = cached(
    userAgentMembers,
    user,
    (u) => `{"Name":"UserAgent","Value":${u.json.userAgent}}`,
  );
  ctx.fields.push(
    `"AzureActiveDirectoryEventType":1,"ExtendedProperties":[{"Name":"ResultStatusDetail","Value":"${failed ? "UserError" : "Redirect"}"},${userAgent},${rng.pick(REQUEST_TYPES_JSON)}${rng.chance(0.3) ? ',{"Name":"KeepMeSignedIn","Value":"true"}' : ""}],"ModifiedProperties":[]`,
    `"Actor":${cached(actorArrays, user, (u) => `[{"ID":"${u.objectId}","Type":0},{"ID":${u.json.upn},"Type":5},{"ID":"${u.puid}","Type":3}]`)},"ActorContextId":"${t.tenantId}","ActorIpAddress":${ip}`,
    `"InterSystemsId":${qGuid(rng)},"IntraSystemId":${qGuid(rng)},"SupportTicketId":"","Target":[{"ID":"${resource}","Type":0}],"TargetContextId":"${t.tenantId}",${rng.pick(CLIENT_APPS_MEMBERS)}`,
    `"DeviceProperties":[${cached(deviceMembers, user, (u) => `{"Name":"OS","Value":"${u.os}"},{"Name":"BrowserType","Value":"${u.browser.split(" ")[0]}"}`)},{"Name":"IsCompliantAndManaged","Value":"${rng.chance(0.6) ? "True" : "False"}"},{"Name":"SessionId","Value":"${guid(rng)}"}]`,
  );
  if (failed) {
    const [errorNumber, logonError] = rng.pick(LOGON_FAILURES);
    ctx.fields.push(`"ErrorNumber":"${errorNumber}","LogonError":"${logonError}"`);
  } else {
    ctx.fields.push(`"ErrorNumber":"0"`);
  }
}

/**
 * AssignedPlan elements as Entra logs them: pretty-printed JSON (CRLF, two-space indent) inside a
 * JSON string. Built once as escaped text around a timestamp placeholder, because rendering tens
 * of them per record through JSON.stringify would dominate the generator's cost.
 */
const ASSIGNED_PLAN_POOL: readonly (readonly [before: string, after: string])[] = (() => {
  const rng = new Rng(0x1f83d9ab, 0x5be0cd19, 0x137e2179, 0xc1059ed8);
  const marker = "\u0000";
  const pool: [string, string][] = [];
  for (let i = 0; i < 128; i++) {
    const plan = {
      SubscribedPlanId: randomGuid(rng),
      ServiceInstance: `${rng.pick(["Exchange", "SharePoint", "TeamspaceAPI", "MicrosoftCommunicationsOnline"])}/NAMPR${rng.int(1, 19)}A00${rng.int(1, 9)}`,
      CapabilityStatus: 0,
      AssignedTimestamp: marker,
      InitialState: null,
      Capability: null,
      ServicePlanId: randomGuid(rng),
      ServicePlanName: rng.pick(SERVICE_PLANS),
    };
    const pretty = JSON.stringify(plan, null, 2)
      .split("\n")
      .map((line) => `  ${line}`)
      .join("\r\n");
    // The marker is escaped twice: once in the pretty text, once more inside the string literal.
    const escaped = JSON.stringify(pretty).slice(1, -1);
    const [before, after] = escaped.split("\\\\u0000");
    pool.push([before!, after!]);
  }
  return pool;
})();

/** JSON string literal of a pretty-printed AssignedPlan array of the given pool elements. */
function assignedPlansInString(picks: readonly number[], count: number, stamp: string): string {
  if (count === 0) return '"[]"';
  let out = '"[\\r\\n';
  for (let i = 0; i < count; i++) {
    const [before, after] = ASSIGNED_PLAN_POOL[picks[i]!]!;
    out += `${i === 0 ? "" : ",\\r\\n"}${before}${stamp}${after}`;
  }
  return `${out}\\r\\n]"`;
}

function modifiedProperty(name: string, oldValue: unknown, newValue: unknown): string {
  return `{"Name":${str(name)},"NewValue":${prettyJsonInString(newValue)},"OldValue":${prettyJsonInString(oldValue)}}`;
}

function directoryRecord(ctx: RecordContext, rng: Rng): void {
  const t = ctx.tenant;
  const operation: string = DIRECTORY_OPS.pick(rng);
  // Some changes are made by Entra itself or a service principal: no ClientIP (null or "").
  const system = rng.chance(0.25);
  const actor = system ? undefined : rng.pick(t.admins);
  const target = pickMember(rng, t);
  const appLike = operation.includes("application") || operation.includes("service principal");
  const targetId = appLike ? randomGuid(rng) : target.objectId;
  const targetKind = appLike
    ? operation.includes("service principal")
      ? "ServicePrincipal"
      : "Application"
    : operation.includes("group")
      ? "Group"
      : "User";
  common(ctx, rng, {
    recordType: RECORD_TYPES.AzureActiveDirectory,
    operation: enc(operation),
    userType: system ? 4 : 0,
    userKey: actor ? `"${actor.puid}@${t.domain}"` : '"Not Available"',
    workload: "AzureActiveDirectory",
    resultStatus: rng.chance(0.98) ? "Success" : "Failure",
    objectId: q(appLike ? targetId : target.upn),
    userId: actor
      ? actor.json.upn
      : rng.pick(['"ServicePrincipal_6b8f1a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b"', '"Certificate"']),
    clientIp: actor ? clientIp(rng, actor) : rng.chance(0.5) ? "null" : '""',
  });
  const f = ctx.fields;
  f.push(`"AzureActiveDirectoryEventType":1`);
  f.push(
    `"ExtendedProperties":${nameValueArray([
      [
        "additionalDetails",
        rng.chance(0.7) ? "{}" : `{"User-Agent":"Microsoft Azure Graph Client Library 1.0"}`,
      ],
      ["extendedAuditEventCategory", targetKind],
    ])}`,
  );
  const props: string[] = [];
  const included: string[] = [];
  const push = (name: string, oldValue: unknown, newValue: unknown) => {
    props.push(modifiedProperty(name, oldValue, newValue));
    included.push(name);
  };
  switch (operation) {
    case "Update user.":
    case "Change user license.": {
      if (operation === "Change user license." || rng.chance(0.25)) {
        // AssignedPlan is the big one: tens of KB of JSON in a string; rarely past 64 KB.
        const giant = !ctx.bulk && rng.chance(0.01);
        const count = giant ? rng.int(260, 320) : rng.int(6, 40);
        const picks: number[] = [];
        for (let i = 0; i < count; i++) picks.push(rng.next() & 127);
        const stamp = preciseTime(ctx.creationMs - rng.int(0, 400) * 86_400_000);
        props.push(
          `{"Name":"AssignedPlan","NewValue":${assignedPlansInString(picks, count, stamp)},"OldValue":${assignedPlansInString(picks, Math.max(0, count - 3), stamp)}}`,
        );
        included.push("AssignedPlan");
        push(
          "AssignedLicense",
          [],
          [
            `[SKUName=ENTERPRISEPACK, AccountId=${t.tenantId}, SkuId=${randomGuid(rng)}, DisabledPlans=[]]`,
          ],
        );
      } else if (rng.chance(0.5)) {
        push(
          "StrongAuthenticationMethod",
          [],
          [
            { MethodType: 6, Default: true },
            { MethodType: 7, Default: false },
          ],
        );
      } else {
        push(
          "Department",
          [target.department],
          [rng.pick(["Finance", "Sales", "Legal", "Operations"])],
        );
        push("JobTitle", [], [rng.pick(["Analyst", "Manager", "Engineer", "Director"])]);
      }
      break;
    }
    case "Add member to group.":
    case "Remove member from group.": {
      const group = rng.pick(GROUPS);
      const groupId = randomGuid(rng);
      const add = operation.startsWith("Add");
      props.push(
        `{"Name":"Group.ObjectID","NewValue":${q(add ? groupId : "")},"OldValue":${q(add ? "" : groupId)}}`,
      );
      props.push(
        `{"Name":"Group.DisplayName","NewValue":${str(add ? group : "")},"OldValue":${str(add ? "" : group)}}`,
      );
      break;
    }
    case "Add user.": {
      push("AccountEnabled", [], [true]);
      push("DisplayName", [], [target.displayName]);
      push("UserPrincipalName", [], [target.upn]);
      push("UserType", [], ["Member"]);
      break;
    }
    case "Update application.":
    case "Add service principal.":
    case "Add app role assignment to service principal.":
    case "Consent to application.":
    case "Add delegated permission grant.": {
      const url = `https://app${rng.int(1, 99)}.${t.orgName}.example/signin-oidc`;
      push(
        "AppAddress",
        [],
        [
          {
            AddressType: 0,
            Address: url,
            ReplyAddressClientType: 1,
            ReplyAddressIndex: null,
            IsReplyAddressDefault: false,
          },
        ],
      );
      push("AppRole.Value", [], [rng.pick(["ActivityFeed.Read", "User.Read.All", "Mail.Read"])]);
      break;
    }
    case "Update application – Certificates and secrets management ": {
      const keyId = randomGuid(rng);
      push(
        "KeyDescription",
        [],
        [
          `[KeyIdentifier=${keyId},KeyType=Password,KeyUsage=Verify,DisplayName=auditbridge-collector]`,
        ],
      );
      break;
    }
    default:
      break;
  }
  if (included.length > 0) {
    props.push(
      `{"Name":"Included Updated Properties","NewValue":${str(included.join(", "))},"OldValue":""}`,
    );
  }
  // Entra escapes forward slashes in some records ("https:\/\/…"): valid JSON, same value.
  let modified = `[${props.join(",")}]`;
  if (rng.chance(0.3)) modified = modified.replace(/\//g, "\\/");
  f.push(`"ModifiedProperties":${modified}`);
  f.push(
    `"Actor":${
      actor
        ? `[{"ID":${q(actor.upn)},"Type":5},{"ID":${q(actor.puid)},"Type":3},{"ID":${q(`User_${actor.objectId}`)},"Type":2},{"ID":${q(actor.objectId)},"Type":2},{"ID":"User","Type":2}]`
        : `[{"ID":"Microsoft Substrate Management","Type":1},{"ID":"ServicePrincipal_${hex32(rng.next())}-0000-0000-0000-000000000000","Type":2},{"ID":"ServicePrincipal","Type":2}]`
    }`,
  );
  f.push(`"ActorContextId":${q(t.tenantId)}`);
  if (actor) f.push(`"ActorIpAddress":${clientIp(rng, actor)}`);
  f.push(`"InterSystemsId":${qGuid(rng)}`);
  f.push(`"IntraSystemId":${qGuid(rng)}`);
  f.push(`"SupportTicketId":""`);
  f.push(
    `"Target":[{"ID":${q(`${targetKind}_${targetId}`)},"Type":2},{"ID":${q(targetId)},"Type":2},{"ID":${q(targetKind)},"Type":2}${appLike ? "" : `,{"ID":${q(target.upn)},"Type":5},{"ID":${q(target.puid)},"Type":3}`}]`,
  );
  f.push(`"TargetContextId":${q(t.tenantId)}`);
}

/** Audit.AzureActiveDirectory: sign-ins (STS logon) and directory changes. */
export function entraRecord(ctx: RecordContext, rng: Rng): void {
  if (rng.chance(0.76)) logonRecord(ctx, rng);
  else directoryRecord(ctx, rng);
}
