import { DLP_SENSITIVE_TYPES } from "../generator";
import { type RequestContext, sendJson } from "../http";
import { API_HEADERS, apiError, sendApiError } from "./wire";

/**
 * Friendly names of DLP sensitive information types (`GET /resources/dlpSensitiveTypes`), the
 * one object the API resolves, in the one language its `Accept-Language` header may name:
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#retrieve-resource-friendly-names
 */
export function sendDlpSensitiveTypes(ctx: RequestContext): void {
  const header = ctx.req.headers["accept-language"];
  if (header !== undefined && header.trim() !== "") {
    const languages = header
      .split(",")
      .map((part) => part.trim())
      .filter((part) => part !== "");
    if (languages.length > 1) {
      sendApiError(
        ctx,
        apiError(400, "AF20053", "Only one language may be present in the Accept-Language header."),
      );
      return;
    }
    if (
      !/^(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)(?:;q=[01](?:\.\d{0,3})?)?$/.test(
        languages[0] ?? "",
      )
    ) {
      sendApiError(ctx, apiError(400, "AF20054", "Invalid syntax in Accept-Language header."));
      return;
    }
  }
  sendJson(ctx, 200, DLP_SENSITIVE_TYPES, API_HEADERS);
}
