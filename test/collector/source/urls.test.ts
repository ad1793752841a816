import { describe, expect, it } from "vitest";
import { parseApiError } from "../../../collector/src/source/apiError";
import {
  checkNextPageUri,
  feedRoot,
  normalizeBaseUrl,
  resolveContentUri,
  withPublisherIdentifier,
} from "../../../collector/src/source/urls";

const TENANT = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
const OTHER = "ffffffff-4f50-6172-8394-a5b6c7d8e9f0";
const location = { baseUrl: "https://manage.office.com", tenantId: TENANT };
const CONTENT_ID = "20260310120000123$20260310121500456$audit_sharepoint$Audit_SharePoint$na0017";

describe("normalizeBaseUrl", () => {
  it("rejects a base URL that is not https, naming the value", () => {
    expect(() => normalizeBaseUrl("http://manage.office.com")).toThrow(
      /must use https.*http:\/\/manage/,
    );
    expect(() => normalizeBaseUrl("not a url")).toThrow(/"not a url" is not a URL/);
  });
});

describe("feedRoot", () => {
  it("keeps a path prefix of a private endpoint", () => {
    expect(feedRoot({ baseUrl: "https://proxy.example/o365/", tenantId: TENANT })).toBe(
      `https://proxy.example/o365/api/v1.0/${TENANT}/activity/feed`,
    );
  });
});

describe("checkNextPageUri", () => {
  const next = `https://manage.office.com/api/v1.0/${TENANT}/activity/feed/subscriptions/content?contentType=Audit.SharePoint&startTime=2026-03-10T00:00:00&endTime=2026-03-11T00:00:00&nextPage=2026031000R0001`;

  it("accepts the configured host and tenant verbatim", () => {
    expect(checkNextPageUri(next, location)).toEqual({ ok: true, url: next });
  });

  it("accepts the /api/v1/ spelling of the documentation's example", () => {
    const v1 = next.replace("/api/v1.0/", "/api/v1/");
    expect(checkNextPageUri(v1, location)).toEqual({ ok: true, url: v1 });
  });

  it("refuses another host, another tenant, plain http and non-listing paths", () => {
    expect(checkNextPageUri(next.replace("manage.office.com", "evil.example"), location).ok).toBe(
      false,
    );
    expect(checkNextPageUri(next.replace(TENANT, OTHER), location).ok).toBe(false);
    expect(checkNextPageUri(next.replace("https:", "http:"), location).ok).toBe(false);
    expect(
      checkNextPageUri(next.replace("subscriptions/content", "subscriptions/list"), location).ok,
    ).toBe(false);
    expect(checkNextPageUri("::::", location)).toEqual({ ok: false, problem: "it is not a URL" });
  });

  it("refuses a path that climbs out of the tenant with dot segments", () => {
    const climbing = `https://manage.office.com/api/v1.0/${OTHER}/../${TENANT}/activity/feed/subscriptions/content`;
    expect(checkNextPageUri(climbing, location).ok).toBe(true);
    const escaping = `https://manage.office.com/api/v1.0/${TENANT}/../${OTHER}/activity/feed/subscriptions/content`;
    expect(checkNextPageUri(escaping, location).ok).toBe(false);
  });
});

describe("resolveContentUri", () => {
  const good = `https://manage.office.com/api/v1.0/${TENANT}/activity/feed/audit/${CONTENT_ID}`;

  it("uses a contentUri on the configured API and tenant as listed", () => {
    expect(resolveContentUri(good, CONTENT_ID, location)).toEqual({ kind: "as-listed", url: good });
  });

  it("rebuilds a contentUri pointing at another host from the configured base and the contentId", () => {
    const verdict = resolveContentUri(
      good.replace("manage.office.com", "localhost:8080"),
      CONTENT_ID,
      location,
    );
    expect(verdict).toMatchObject({ kind: "rebuilt", url: good });
  });

  it("rebuilds a contentUri pointing at another tenant", () => {
    expect(resolveContentUri(good.replace(TENANT, OTHER), CONTENT_ID, location)).toMatchObject({
      kind: "rebuilt",
      url: good,
    });
  });

  it("refuses when the contentUri is foreign and the contentId could smuggle a path", () => {
    for (const badId of ["../../x", "a/b", "", "a?b=c", "a#b", "%2e%2e"]) {
      expect(resolveContentUri("https://evil.example/x", badId, location).kind, badId).toBe(
        "refused",
      );
    }
  });
});

describe("withPublisherIdentifier", () => {
  it("appends the parameter, keeping the rest of the URL as it was", () => {
    expect(withPublisherIdentifier("https://h/p?startTime=2026-03-10T00:00:00", "pub")).toBe(
      "https://h/p?startTime=2026-03-10T00:00:00&PublisherIdentifier=pub",
    );
    expect(withPublisherIdentifier("https://h/audit/a$b", "pub")).toBe(
      "https://h/audit/a$b?PublisherIdentifier=pub",
    );
  });

  it("leaves a URL that already carries it in any capitalisation alone", () => {
    const url = "https://h/p?publisheridentifier=pub&x=1";
    expect(withPublisherIdentifier(url, "pub")).toBe(url);
  });
});

describe("parseApiError", () => {
  it("reads the documented JSON shape", () => {
    expect(
      parseApiError('{"error":{"code":"AF20030","message":"Start time and end time..."}}'),
    ).toEqual({
      code: "AF20030",
      message: "Start time and end time...",
    });
  });

  it("reads the single-quoted AF429 body", () => {
    expect(
      parseApiError(
        "{'error':{'code':'AF429','message':'Too many requests. Method=GetBlob, PublisherId=00000000-0000-0000-0000-000000000000'}}",
      ),
    ).toEqual({
      code: "AF429",
      message:
        "Too many requests. Method=GetBlob, PublisherId=00000000-0000-0000-0000-000000000000",
    });
  });

  it("keeps a non-JSON body as a one-line message", () => {
    expect(parseApiError("<html>\n<h1>503 Service Unavailable</h1>\n</html>")).toEqual({
      message: "<html> <h1>503 Service Unavailable</h1> </html>",
    });
  });

  it("reads the audit-off diagnostic whose code is cut mid-token", () => {
    const body = JSON.stringify({
      error: {
        code: "StartSubscription [CorrId=1][TenantId=t,ContentType=Audit.General][AppId",
        message:
          "x] failed. Exception: Microsoft.Office.Compliance.Audit.DataServiceException: Tenant t does not exist.\r\n   at ...",
      },
    });
    const parsed = parseApiError(body);
    expect(parsed.code).toContain("StartSubscription");
    expect(parsed.message).toContain("DataServiceException");
    expect(parsed.message).not.toContain("\n");
  });

  it("returns nothing for an empty body and tolerates a string error", () => {
    expect(parseApiError("")).toEqual({});
    expect(parseApiError('{"error":"bad"}')).toEqual({ message: "bad" });
  });
});
