/**
 * Small, independent parsers for what the syslog sink sends: RFC 5424 headers, CEF and LEEF 2.0.
 * Written from the standards (not from the sink's code) so a test can read a message back.
 * RFC 5424: https://www.rfc-editor.org/rfc/rfc5424
 * CEF: https://www.microfocus.com/documentation/arcsight/arcsight-smartconnectors-8.3/cef-implementation-standard/
 * LEEF: https://www.ibm.com/docs/en/dsm?topic=overview-leef-event-components
 */
import type { ReceivedRecord } from "../../../collector/src/types";
import type { ContentBlob } from "../../../domain/records";

export interface Rfc5424 {
  facility: number;
  severity: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  msg: string;
}

export function parseRfc5424(line: string): Rfc5424 | undefined {
  const m = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*?\]) ?([\s\S]*)$/.exec(line);
  if (!m) return undefined;
  const pri = Number(m[1]);
  return {
    facility: Math.floor(pri / 8),
    severity: pri % 8,
    timestamp: m[2]!,
    hostname: m[3]!,
    appName: m[4]!,
    procId: m[5]!,
    msgId: m[6]!,
    msg: m[8]!,
  };
}

/** Splits on `|` not preceded by a backslash escape, unescaping `\|` and `\\`. */
function splitHeader(text: string, fields: number): { header: string[]; rest: string } {
  const header: string[] = [];
  let current = "";
  let i = 0;
  for (; i < text.length && header.length < fields; i++) {
    const c = text[i]!;
    if (c === "\\" && i + 1 < text.length) {
      current += text[i + 1];
      i++;
    } else if (c === "|") {
      header.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  return { header, rest: text.slice(i) };
}

function unescapeCefValue(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c === "r" ? "\r" : c));
}

export interface Cef {
  version: string;
  vendor: string;
  product: string;
  deviceVersion: string;
  signatureId: string;
  name: string;
  severity: string;
  extension: Record<string, string>;
}

export function parseCef(msg: string): Cef {
  if (!msg.startsWith("CEF:")) throw new Error(`not CEF: ${msg.slice(0, 40)}`);
  const { header, rest } = splitHeader(msg, 7);
  const extension: Record<string, string> = {};
  const equals: number[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "\\") {
      i++;
      continue;
    }
    if (rest[i] === "=") equals.push(i);
  }
  const keyStarts = equals.map((eq) => rest.lastIndexOf(" ", eq) + 1);
  equals.forEach((eq, k) => {
    const key = rest.slice(keyStarts[k], eq);
    const end = k + 1 < equals.length ? keyStarts[k + 1]! - 1 : rest.length;
    extension[key] = unescapeCefValue(rest.slice(eq + 1, end));
  });
  return {
    version: header[0]!,
    vendor: header[1]!,
    product: header[2]!,
    deviceVersion: header[3]!,
    signatureId: header[4]!,
    name: header[5]!,
    severity: header[6]!,
    extension,
  };
}

/** CEF custom strings by label: `{ Workload: "…" }` from cs1Label=Workload cs1=…. */
export function cefLabelled(extension: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (let n = 1; n <= 6; n++) {
    const label = extension[`cs${n}Label`];
    if (label !== undefined) out[label] = extension[`cs${n}`] ?? "";
  }
  return out;
}

export interface Leef {
  version: string;
  vendor: string;
  product: string;
  productVersion: string;
  eventId: string;
  delimiter: string;
  attributes: Record<string, string>;
}

export function parseLeef(msg: string): Leef {
  if (!msg.startsWith("LEEF:2.0|")) throw new Error(`not LEEF 2.0: ${msg.slice(0, 40)}`);
  const { header, rest } = splitHeader(msg, 6);
  const declared = header[5]!;
  const delimiter = /^0?x[0-9a-f]{1,4}$/i.test(declared)
    ? String.fromCharCode(Number.parseInt(declared.replace(/^0?x/i, ""), 16))
    : declared;
  const attributes: Record<string, string> = {};
  for (const pair of rest.split(delimiter)) {
    const eq = pair.indexOf("=");
    if (eq > 0) attributes[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    version: header[0]!,
    vendor: header[1]!,
    product: header[2]!,
    productVersion: header[3]!,
    eventId: header[4]!,
    delimiter,
    attributes,
  };
}

const OPERATIONS = [
  "FileAccessed",
  "New-InboxRule",
  "UserLoginFailed",
  "FileDeleted",
  "MailItemsAccessed",
];
const CLIENT_IPS = [
  (n: number) => `10.1.${n % 250}.${(n * 7) % 250}`,
  (n: number) => `10.2.0.${n % 250}:${1024 + n}`,
  (n: number) => `[2001:db8::${(n % 65535).toString(16)}]:443`,
  (n: number) => `2001:db8:0:1::${(n % 65535).toString(16)}`,
  () => null,
  () => "",
];

/** The address a CEF/LEEF message should carry for a ClientIP, or undefined. */
export function expectedIp(clientIp: unknown): string | undefined {
  if (typeof clientIp !== "string" || clientIp === "") return undefined;
  const bracket = /^\[(.+)\]:\d+$/.exec(clientIp);
  if (bracket) return bracket[1];
  const v4 = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(clientIp);
  if (v4) return v4[1];
  return clientIp;
}

/** Audit records with awkward values: escapes, pipes, newlines, IPv6 with ports, Unicode. */
export function auditRecords(from: number, count: number, pad = 0): ReceivedRecord[] {
  const out: ReceivedRecord[] = [];
  for (let n = from; n < from + count; n++) {
    const minute = String(Math.floor(n / 60) % 60).padStart(2, "0");
    const second = String(n % 60).padStart(2, "0");
    const body: Record<string, unknown> = {
      CreationTime: `2026-03-01T10:${minute}:${second}`,
      Id: `4a1b2c3d-0000-4000-8000-${String(n).padStart(12, "0")}`,
      Operation: OPERATIONS[n % OPERATIONS.length],
      OrganizationId: "c0ffee00-0000-4000-8000-000000000001",
      RecordType: [1, 2, 6, 15, 999][n % 5],
      ResultStatus: n % 3 === 0 ? "Failed" : "Succeeded",
      UserKey: `1003${n}`,
      UserType: 0,
      Workload: ["Exchange", "SharePoint", "AzureActiveDirectory"][n % 3],
      ClientIP: CLIENT_IPS[n % CLIENT_IPS.length]!(n),
      ObjectId:
        n % 4 === 0
          ? `https://contoso.sharepoint.com/sites/a|b\\c/Zoë ${n}.docx`
          : n % 4 === 1
            ? `line one\nline two=${n}\r\nend`
            : `mailbox-${n}`,
      UserId: n % 5 === 0 ? `CONTOSO\\adm=in${n}` : `user${n}@contoso.com`,
      ...(pad > 0 ? { Pad: "p".repeat(pad) } : {}),
    };
    const raw = JSON.stringify(body);
    out.push({ id: body.Id as string, raw, record: JSON.parse(raw) });
  }
  return out;
}

export function blob(contentType: string, n = 0): ContentBlob {
  return {
    contentType,
    contentId: `blob-${n}`,
    contentUri: `https://api.test/blob-${n}`,
    contentCreated: "2026-03-01T10:00:00.000Z",
    contentExpiration: "2026-03-08T10:00:00.000Z",
  };
}
