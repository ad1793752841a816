import { request } from "node:https";
import { rootCertificates } from "node:tls";

/**
 * Outgoing calls of the emulated Management Activity API: the webhook validation handshake sent
 * during `subscriptions/start`, and notification POSTs when new content becomes available
 * (https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#receiving-notifications).
 */

/** How long the emulator waits for a webhook listener to answer. */
export const WEBHOOK_TIMEOUT_MS = 5_000;

export interface WebhookCallResult {
  ok: boolean;
  /** HTTP status, or undefined when the call failed before a response. */
  status?: number;
  /** Why it failed, for logs and error messages. */
  reason?: string;
}

/** POSTs JSON to a listener, trusting public roots plus the emulator's own CA. */
export function postJson(
  address: string,
  headers: Record<string, string>,
  body: unknown,
  caPem: string,
): Promise<WebhookCallResult> {
  const payload = Buffer.from(JSON.stringify(body), "utf8");
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: WebhookCallResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    try {
      const req = request(
        address,
        {
          method: "POST",
          headers: { ...headers, "Content-Length": String(payload.length) },
          ca: [...rootCertificates, caPem],
          timeout: WEBHOOK_TIMEOUT_MS,
          agent: false,
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            finish(
              status === 200
                ? { ok: true, status }
                : { ok: false, status, reason: `HTTP ${status}` },
            );
          });
          res.on("error", (error) => finish({ ok: false, reason: error.message }));
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${WEBHOOK_TIMEOUT_MS} ms`)));
      req.on("error", (error) => finish({ ok: false, reason: error.message }));
      req.end(payload);
    } catch (error) {
      finish({ ok: false, reason: (error as Error).message });
    }
  });
}

/**
 * The validation handshake: the listener must answer HTTP 200 (no echo needed). Headers and body
 * as the reference shows them:
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#start-a-subscription
 */
export function validateWebhook(
  address: string,
  authId: string | null,
  validationCode: string,
  caPem: string,
): Promise<WebhookCallResult> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json; charset=utf-8",
    "Webhook-ValidationCode": validationCode,
  };
  if (authId) headers["Webhook-AuthID"] = authId;
  return postJson(address, headers, { validationCode }, caPem);
}

/** One entry of a notification body: https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#receiving-notifications */
export interface NotificationEntry {
  tenantId: string;
  clientId: string;
  contentType: string;
  contentId: string;
  contentUri: string;
  contentCreated: string;
  contentExpiration: string;
}

/** Sends one notification batch; the service's sample uses `application/json; utf-8`. */
export function sendNotification(
  address: string,
  authId: string | null,
  entries: NotificationEntry[],
  caPem: string,
): Promise<WebhookCallResult> {
  const headers: Record<string, string> = { "Content-Type": "application/json; utf-8" };
  if (authId) headers["Webhook-AuthID"] = authId;
  return postJson(address, headers, entries, caPem);
}
