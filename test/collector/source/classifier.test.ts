import { describe, expect, it } from "vitest";
import {
  type ApiAction,
  type ApiResponseFacts,
  classifyApiResponse,
} from "../../../collector/src/source/classifier";

interface Row {
  name: string;
  facts: ApiResponseFacts;
  action: ApiAction;
  throttled?: boolean;
  skipReason?: string;
  reasonIncludes?: string;
}

const ROWS: Row[] = [
  {
    name: "AF429 inside HTTP 403 is a throttled retry",
    facts: {
      status: 403,
      code: "AF429",
      message: "Too many requests. Method=GetBlob, PublisherId=x",
    },
    action: "retry",
    throttled: true,
  },
  {
    name: "an unparsed 403 body that says too many requests is a throttled retry",
    facts: { status: 403, message: "{'error':{'code':'AF429','message':'Too many requ" },
    action: "retry",
    throttled: true,
  },
  {
    name: "HTTP 429 is a throttled retry",
    facts: { status: 429 },
    action: "retry",
    throttled: true,
  },
  {
    name: "HTTP 401 without a code refreshes the token",
    facts: { status: 401 },
    action: "refresh-token",
  },
  {
    name: "HTTP 401 with an unrelated code refreshes the token",
    facts: { status: 401, code: "InvalidAuthenticationToken" },
    action: "refresh-token",
  },
  {
    name: "AF10001 in HTTP 401 is a configuration error naming the missing permission",
    facts: {
      status: 401,
      code: "AF10001",
      message:
        "The permission set (ActivityFeed.Read ServiceHealth.Read) sent in the request did not include the expected permission ActivityFeed.ReadDlp.",
    },
    action: "fatal-config",
    reasonIncludes: "ActivityFeed.ReadDlp",
  },
  { name: "HTTP 408 is retried", facts: { status: 408 }, action: "retry" },
  { name: "HTTP 500 is retried", facts: { status: 500 }, action: "retry" },
  { name: "HTTP 502 is retried", facts: { status: 502 }, action: "retry" },
  { name: "HTTP 503 is retried", facts: { status: 503 }, action: "retry" },
  { name: "HTTP 504 is retried", facts: { status: 504 }, action: "retry" },
  { name: "AF50000 is retried", facts: { status: 500, code: "AF50000" }, action: "retry" },
  {
    name: "AF50000 is retried even under HTTP 400",
    facts: { status: 400, code: "AF50000" },
    action: "retry",
  },
  { name: "AF50005 is retried", facts: { status: 500, code: "AF50005" }, action: "retry" },
  { name: "AF50006 is retried", facts: { status: 500, code: "AF50006" }, action: "retry" },
  { name: "ECONNRESET is retried", facts: { networkError: "ECONNRESET" }, action: "retry" },
  { name: "ETIMEDOUT is retried", facts: { networkError: "ETIMEDOUT" }, action: "retry" },
  {
    name: "a truncated body is retried",
    facts: { networkError: "truncated-body" },
    action: "retry",
  },
  {
    name: "an unknown socket error is retried",
    facts: { networkError: "UND_ERR_SOCKET" },
    action: "retry",
  },
  { name: "AF20022 re-subscribes", facts: { status: 400, code: "AF20022" }, action: "resubscribe" },
  { name: "AF20023 re-subscribes", facts: { status: 400, code: "AF20023" }, action: "resubscribe" },
  {
    name: "AF20050 skips the blob as missing",
    facts: { status: 404, code: "AF20050", operation: "blob" },
    action: "skip",
    skipReason: "missing",
  },
  {
    name: "AF20051 skips the blob as expired",
    facts: { status: 400, code: "AF20051", operation: "blob" },
    action: "skip",
    skipReason: "expired",
  },
  {
    name: "AF20052 skips the blob as missing",
    facts: { status: 400, code: "AF20052", operation: "blob" },
    action: "skip",
    skipReason: "missing",
  },
  {
    name: "a plain 404 on a blob skips it as missing",
    facts: { status: 404, operation: "blob" },
    action: "skip",
    skipReason: "missing",
  },
  {
    name: "a plain 404 on a listing is a configuration error about the endpoint",
    facts: { status: 404, operation: "subscriptions/content" },
    action: "fatal-config",
    reasonIncludes: "O365_MANAGEMENT_ENDPOINT",
  },
  {
    name: "AF20030 recomputes the window",
    facts: { status: 400, code: "AF20030" },
    action: "window",
  },
  {
    name: "AF20055 recomputes the window",
    facts: { status: 400, code: "AF20055" },
    action: "window",
  },
  {
    name: "AF20031 drops the page link",
    facts: { status: 400, code: "AF20031" },
    action: "window",
  },
  {
    name: "AF20010 is a configuration error about the tenant",
    facts: { status: 400, code: "AF20010" },
    action: "fatal-config",
    reasonIncludes: "AZURE_TENANT_ID",
  },
  {
    name: "AF20011 is a configuration error",
    facts: { status: 400, code: "AF20011" },
    action: "fatal-config",
  },
  {
    name: "AF20012 is a configuration error",
    facts: { status: 400, code: "AF20012" },
    action: "fatal-config",
  },
  {
    name: "AF20013 is a configuration error",
    facts: { status: 400, code: "AF20013" },
    action: "fatal-config",
  },
  {
    name: "AF20020 is a configuration error about content types",
    facts: { status: 400, code: "AF20020" },
    action: "fatal-config",
    reasonIncludes: "O365_CONTENT_TYPES",
  },
  {
    name: "AF20021 is a configuration error",
    facts: { status: 400, code: "AF20021" },
    action: "fatal-config",
  },
  {
    name: "AF20024 on start means the subscription already holds",
    facts: { status: 400, code: "AF20024", operation: "subscriptions/start" },
    action: "skip",
  },
  {
    name: "DataServiceException in a truncated diagnostic code is the audit-off configuration error",
    facts: {
      status: 400,
      code: "StartSubscription [CorrId=1][TenantId=t,ContentType=Audit.General,ApplicationId=a,PublisherId=p][AppId",
      message:
        "864ee8e] failed. Exception: Microsoft.Office.Compliance.Audit.DataServiceException: Tenant t does not exist.",
    },
    action: "fatal-config",
    reasonIncludes: "audit log search",
  },
  {
    name: "a bare 'does not exist' message is the audit-off configuration error",
    facts: {
      status: 400,
      code: "StartSubscription failed. Exception",
      message: "Tenant x does not exist.",
    },
    action: "fatal-config",
    reasonIncludes: "audit",
  },
  {
    name: "a 403 without AF429 is a configuration error",
    facts: { status: 403, code: "Forbidden" },
    action: "fatal-config",
  },
  {
    name: "an unknown 400 is a configuration error that names the status",
    facts: { status: 400, code: "Weird" },
    action: "fatal-config",
    reasonIncludes: "HTTP 400",
  },
  {
    name: "lower-case AF codes are recognised",
    facts: { status: 403, code: "af429" },
    action: "retry",
    throttled: true,
  },
];

describe("classifyApiResponse", () => {
  it.each(ROWS)("$name", (row) => {
    const result = classifyApiResponse(row.facts);
    expect(result.action).toBe(row.action);
    expect(result.reason.length).toBeGreaterThan(10);
    expect(result.throttled ?? false).toBe(row.throttled ?? false);
    if (row.skipReason !== undefined) {
      expect(result.skipReason).toBe(row.skipReason);
    }
    if (row.reasonIncludes !== undefined) {
      expect(result.reason).toContain(row.reasonIncludes);
    }
  });

  it("does not mistake AF20050's 'does not exist' message for the audit-off error", () => {
    const result = classifyApiResponse({
      status: 400,
      code: "AF20050",
      message: "The specified content (x) does not exist.",
      operation: "blob",
    });
    expect(result).toMatchObject({ action: "skip", skipReason: "missing" });
  });
});
