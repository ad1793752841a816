import { EXCHANGE_AUDIENCES, normalizeAudience } from "./audiences";
import { type RequestContext, type Router, readBody, sendJson } from "./http";
import { bearerToken } from "./jwt";
import type { EmulatorState } from "./state";

/**
 * Exchange Online's admin REST endpoint (`POST /adminapi/beta/{tenantId}/InvokeCommand`), for
 * the four cmdlets AuditBridge runs: Get-AdminAuditLogConfig, Set-AdminAuditLogConfig,
 * Get-OrganizationConfig and Enable-OrganizationCustomization.
 *
 * Microsoft documents the cmdlets, not this endpoint. What the emulator answers follows what the
 * Exchange Online PowerShell module is seen to exchange with it: `{"value":[…]}` answers with
 * `@odata.nextLink` paging, `{"error":{"code","message","details"}}` errors, routing by
 * `X-AnchorMailbox`. Where the exact wording is unknown (which status a dehydrated tenant gets,
 * whether the exception name is in the message or in a detail) the knobs offer the plausible
 * variants, so the client is tested against each.
 * Cmdlets: https://learn.microsoft.com/en-us/powershell/module/exchange/set-adminauditlogconfig
 * https://learn.microsoft.com/en-us/powershell/module/exchange/enable-organizationcustomization
 * Switch and its delay: https://learn.microsoft.com/en-us/purview/audit-log-enable-disable
 */

/** The system mailbox the PowerShell module routes Set-AdminAuditLogConfig by. */
const AUDIT_CONFIG_MAILBOX = "SystemMailbox{8cc370d3-822a-4ab8-a926-bb94bd0641a9}";

/** Behaviour of the emulated Exchange Online organisation; mutable while the emulator runs. */
export interface ExchangeAdminKnobs {
  /**
   * `UnifiedAuditLogIngestionEnabled`. Undefined: it follows the Management API's audit-off knob
   * (`knobs.auditDisabled`), so one setting describes a tenant with auditing off.
   */
  ingestionEnabled: boolean | undefined;
  /** `Get-OrganizationConfig` reports `IsDehydrated: true`; `Set-*` cmdlets are refused. */
  dehydrated: boolean;
  /** How long `Enable-OrganizationCustomization` takes to rehydrate the tenant, in ms. */
  customizationDelayMs: number;
  /**
   * `Set-AdminAuditLogConfig` answers 400 "Cmdlet needs proxy" unless `X-AnchorMailbox` names the
   * audit configuration system mailbox.
   */
  requireAnchor: boolean;
  /** The caller lacks the Audit Logs role: 403 for `set` cmdlets only, or for every cmdlet. */
  forbidden: "none" | "set" | "all";
  /** After Set-AdminAuditLogConfig, the Management API still answers "audit off" this long (ms). */
  effectDelayMs: number;
  /** Where Exchange's exception name stands in an error: in `message` or in `details`. */
  errorShape: "message" | "details";
  /** The dehydrated refusal's HTTP status (Exchange's is not documented). */
  dehydratedStatus: 400 | 500;
  /** Answer with an empty first page and `@odata.nextLink` to the real one. */
  splitPages: boolean;
  /** Set by Enable-OrganizationCustomization: when the tenant stops being dehydrated (epoch ms). */
  rehydrateAtMs: number | undefined;
  /** Set by Set-AdminAuditLogConfig: when the Management API stops answering "audit off". */
  effectiveAtMs: number | undefined;
}

export function defaultExchangeAdminKnobs(): ExchangeAdminKnobs {
  return {
    ingestionEnabled: undefined,
    dehydrated: false,
    customizationDelayMs: 0,
    requireAnchor: true,
    forbidden: "none",
    effectDelayMs: 0,
    errorShape: "message",
    dehydratedStatus: 400,
    splitPages: false,
    rehydrateAtMs: undefined,
    effectiveAtMs: undefined,
  };
}

/** The emulated organisation: knobs plus what the cmdlets changed, and the clock hook. */
export interface ExchangeAdmin {
  knobs: ExchangeAdminKnobs;
  /** Cmdlets run, in order, with the anchor mailbox each was sent with. */
  readonly calls: { cmdlet: string; anchorMailbox: string | undefined }[];
  /** Applies changes whose delay has passed; called before every request. */
  tick(): void;
}

function exchangeError(
  ctx: RequestContext,
  status: number,
  code: string,
  exception: string | undefined,
  text: string,
  shape: ExchangeAdminKnobs["errorShape"],
): void {
  // Exchange prefixes messages with an error id and the exception's full name.
  const full = exception ? `Ex${status.toString(16).toUpperCase()}A1|${exception}|${text}` : text;
  const error =
    shape === "details" && exception
      ? { code, message: text, details: [{ code: "Context", target: "", message: full }] }
      : { code, message: full, details: [] };
  sendJson(ctx, status, { error });
}

/** Registers the endpoint; returns the organisation's knobs and history. */
export function registerExchangeAdmin(router: Router, state: EmulatorState): ExchangeAdmin {
  const admin: ExchangeAdmin = {
    knobs: defaultExchangeAdminKnobs(),
    calls: [],
    tick() {
      const now = state.now();
      const knobs = admin.knobs;
      if (knobs.effectiveAtMs !== undefined && now >= knobs.effectiveAtMs) {
        state.knobs.auditDisabled = false;
        knobs.effectiveAtMs = undefined;
      }
      if (knobs.rehydrateAtMs !== undefined && now >= knobs.rehydrateAtMs) {
        knobs.dehydrated = false;
        knobs.rehydrateAtMs = undefined;
      }
    },
  };
  const pages = new Map<string, Record<string, unknown>[]>();

  router.add("POST", /^\/adminapi\/beta\/(?<tenant>[^/]+)\/InvokeCommand$/, async (ctx) => {
    const knobs = admin.knobs;
    const check = state.signer.verify(bearerToken(ctx.req.headers.authorization), state.now());
    if (!check.ok || !EXCHANGE_AUDIENCES.has(normalizeAudience(check.claims.aud))) {
      ctx.req.resume();
      return sendJson(ctx, 401, {
        error: {
          code: "Unauthorized",
          message: check.ok ? "The token's audience is not Exchange Online." : "Access denied.",
        },
      });
    }
    const tenant = ctx.params.tenant ?? "";
    if (
      tenant.toLowerCase() !== state.tenant.tenantId ||
      check.claims.tid !== state.tenant.tenantId
    ) {
      ctx.req.resume();
      return sendJson(ctx, 404, {
        error: { code: "NotFound", message: `Tenant ${tenant} was not found.` },
      });
    }
    const page = ctx.url.searchParams.get("$skiptoken");
    if (page !== null) {
      ctx.req.resume();
      const value = pages.get(page);
      pages.delete(page);
      if (!value)
        return sendJson(ctx, 400, { error: { code: "BadRequest", message: "Bad $skiptoken." } });
      return sendJson(ctx, 200, { value });
    }
    let input: { CmdletInput?: { CmdletName?: unknown; Parameters?: unknown } };
    try {
      input = JSON.parse((await readBody(ctx.req, { maxWireBytes: 64 * 1024 })).toString("utf8"));
    } catch {
      return sendJson(ctx, 400, {
        error: { code: "BadRequest", message: "Invalid request body." },
      });
    }
    const cmdlet =
      typeof input.CmdletInput?.CmdletName === "string" ? input.CmdletInput.CmdletName : "";
    const parameters = (input.CmdletInput?.Parameters ?? {}) as Record<string, unknown>;
    const anchor = ctx.req.headers["x-anchormailbox"];
    const anchorMailbox = typeof anchor === "string" ? anchor : undefined;
    admin.calls.push({ cmdlet, anchorMailbox });

    const isSet = /^(Set|Enable)-/.test(cmdlet);
    if (knobs.forbidden === "all" || (knobs.forbidden === "set" && isSet)) {
      return exchangeError(
        ctx,
        403,
        "Forbidden",
        undefined,
        `The user or application is not assigned a role that can run '${cmdlet}'.`,
        knobs.errorShape,
      );
    }
    const answer = (value: Record<string, unknown>[]) => {
      if (!knobs.splitPages) return sendJson(ctx, 200, { value });
      const token = `${pages.size + 1}-${state.now()}`;
      pages.set(token, value);
      const next = new URL(ctx.url.pathname, state.url);
      next.searchParams.set("$skiptoken", token);
      return sendJson(ctx, 200, { value: [], "@odata.nextLink": next.toString() });
    };
    const enabled = knobs.ingestionEnabled ?? !state.knobs.auditDisabled;
    switch (cmdlet) {
      case "Get-AdminAuditLogConfig":
        return answer([
          {
            Identity: "Admin Audit Log Settings",
            AdminAuditLogEnabled: true,
            UnifiedAuditLogIngestionEnabled: enabled,
            UnifiedAuditLogFirstOptInDate: enabled ? "2026-01-01T00:00:00Z" : null,
          },
        ]);
      case "Get-OrganizationConfig":
        return answer([{ Identity: state.tenant.tenantId, IsDehydrated: knobs.dehydrated }]);
      case "Enable-OrganizationCustomization":
        if (!knobs.dehydrated || knobs.rehydrateAtMs !== undefined) {
          return exchangeError(
            ctx,
            400,
            "BadRequest",
            "Microsoft.Exchange.Management.Deployment.OrganizationCustomizationAlreadyEnabledException",
            "This operation is not required. Organization is already enabled for customization.",
            knobs.errorShape,
          );
        }
        if (knobs.customizationDelayMs === 0) knobs.dehydrated = false;
        else knobs.rehydrateAtMs = state.now() + knobs.customizationDelayMs;
        return answer([]);
      case "Set-AdminAuditLogConfig": {
        if (
          knobs.requireAnchor &&
          !(anchorMailbox ?? "").toLowerCase().includes(AUDIT_CONFIG_MAILBOX.toLowerCase())
        ) {
          return exchangeError(
            ctx,
            400,
            "BadRequest",
            undefined,
            "Cmdlet needs proxy. Current Server FQDN: emulated-mbx1.prod.outlook.com. Required Server FQDN: emulated-mbx2.prod.outlook.com.",
            knobs.errorShape,
          );
        }
        if (knobs.dehydrated) {
          return exchangeError(
            ctx,
            knobs.dehydratedStatus,
            knobs.dehydratedStatus === 400 ? "BadRequest" : "InternalServerError",
            "Microsoft.Exchange.Configuration.Tasks.InvalidOperationInDehydratedContextException",
            "The operation you are trying to perform is not allowed in a dehydrated context. Run Enable-OrganizationCustomization first.",
            knobs.errorShape,
          );
        }
        if (typeof parameters.UnifiedAuditLogIngestionEnabled !== "boolean") {
          return exchangeError(
            ctx,
            400,
            "BadRequest",
            "System.Management.Automation.ParameterBindingException",
            "A parameter cannot be found that matches the given parameters.",
            knobs.errorShape,
          );
        }
        knobs.ingestionEnabled = parameters.UnifiedAuditLogIngestionEnabled;
        if (knobs.ingestionEnabled) {
          if (knobs.effectDelayMs === 0) state.knobs.auditDisabled = false;
          else knobs.effectiveAtMs = state.now() + knobs.effectDelayMs;
        } else {
          state.knobs.auditDisabled = true;
          knobs.effectiveAtMs = undefined;
        }
        return answer([]);
      }
      default:
        return exchangeError(
          ctx,
          400,
          "BadRequest",
          "System.Management.Automation.CommandNotFoundException",
          `The term '${cmdlet}' is not recognized as the name of a cmdlet.`,
          knobs.errorShape,
        );
    }
  });
  return admin;
}
