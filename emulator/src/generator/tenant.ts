import { hashString, hex32, Rng, randomGuid } from "./prng";

/**
 * The emulated organisation: people, sites, teams and mailboxes that the records talk about.
 * Built once per catalogue from (tenantId, seed); every string in it is plain ASCII without
 * quotes or backslashes, so record builders can splice it into JSON without escaping.
 */
export interface TenantModel {
  readonly tenantId: string;
  /** e.g. `harborview42`; the tenant's *.onmicrosoft.com label. */
  readonly orgName: string;
  /** e.g. `harborview42.onmicrosoft.com`. */
  readonly domain: string;
  /** `https://harborview42.sharepoint.com`. */
  readonly sharePointUrl: string;
  /** `https://harborview42-my.sharepoint.com`. */
  readonly oneDriveUrl: string;
  /** Region shard at the end of content ids, e.g. `na0017`. */
  readonly region: string;
  /** Exchange organisation path prefix of admin ObjectIds. */
  readonly exchangeOrgPath: string;
  /** Exchange server name prefix, e.g. `NAMPR07MB`. */
  readonly serverPrefix: string;
  readonly users: readonly TenantUser[];
  /** Users with admin roles (a subset of users). */
  readonly admins: readonly TenantUser[];
  readonly sites: readonly TenantSite[];
  readonly teams: readonly TenantTeam[];
  /** Yammer network id (a large integer). */
  readonly yammerNetworkId: number;
}

/** A person in the tenant. */
export interface TenantUser {
  readonly upn: string;
  readonly displayName: string;
  readonly alias: string;
  readonly objectId: string;
  /** Passport-style unique id, 16 upper-case hex digits (`1003200…`). */
  readonly puid: string;
  readonly sid: string;
  readonly mailboxGuid: string;
  readonly ipv4: string;
  readonly ipv6: string;
  readonly userAgent: string;
  readonly os: string;
  readonly browser: string;
  readonly guest: boolean;
  /** The user's OneDrive root, with a trailing slash. */
  readonly oneDrive: string;
  /** Site collection id of the user's OneDrive. */
  readonly oneDriveSiteId: string;
  readonly department: string;
  readonly yammerUserId: number;
  /** The same values as JSON string literals, encoded once (record builders splice them). */
  readonly json: {
    readonly upn: string;
    readonly displayName: string;
    readonly objectId: string;
    readonly puid: string;
    readonly ipv4: string;
    readonly ipv6: string;
    readonly userAgent: string;
  };
}

/** A SharePoint site (team or communication site). */
export interface TenantSite {
  readonly url: string;
  readonly title: string;
  readonly siteId: string;
  readonly webId: string;
  readonly listId: string;
}

/** A Microsoft Teams team with its channels and backing group. */
export interface TenantTeam {
  readonly name: string;
  readonly teamGuid: string;
  readonly groupId: string;
  readonly channels: readonly { name: string; id: string }[];
}

const ORG_NAMES = [
  "harborview",
  "bluefinch",
  "copperleaf",
  "northgate",
  "silverpine",
  "larchmont",
  "redwoodmfg",
  "brightwater",
  "oakhollow",
  "granitepeak",
];
const REGIONS = ["na0017", "na0023", "na0031", "emea9019", "emea0032", "apac0012"];
const EXCHANGE_FORESTS: [string, string][] = [
  ["NAMPR01A001", "NAMPR"],
  ["NAMPR07A002", "NAMPR"],
  ["EURPR03A005", "EURPR"],
  ["APCPR02A001", "APCPR"],
];
const FIRST_NAMES = [
  "Ava",
  "Liam",
  "Maya",
  "Noah",
  "Zoe",
  "Ethan",
  "Iris",
  "Omar",
  "Lena",
  "Mateo",
  "Priya",
  "Jonas",
  "Chloe",
  "Kenji",
  "Sofia",
  "Aaron",
  "Nadia",
  "Felix",
  "Grace",
  "Ravi",
  "Elena",
  "Tomas",
  "Hannah",
  "Yusuf",
  "Clara",
  "Diego",
  "Freya",
  "Samuel",
  "Leila",
  "Owen",
  "Zoë",
  "Søren",
  "José",
];
const LAST_NAMES = [
  "Brennan",
  "Okafor",
  "Lindqvist",
  "Moreau",
  "Tanaka",
  "Alvarez",
  "Novak",
  "Fischer",
  "Haddad",
  "Kowalski",
  "Reyes",
  "Sandoval",
  "Whitfield",
  "Nakamura",
  "Osei",
  "Petrov",
  "Quinn",
  "Rasmussen",
  "Silva",
  "Thornton",
  "Müller",
  "Núñez",
];
const DEPARTMENTS = ["Finance", "Sales", "Engineering", "Legal", "HR", "Marketing", "Operations"];
const SITE_TITLES = [
  "Finance",
  "Sales",
  "Engineering",
  "Legal",
  "HR",
  "Marketing",
  "Operations",
  "Projects",
  "Intranet",
  "ITSupport",
  "Procurement",
  "Board",
];
const TEAM_NAMES = [
  "Sales Team",
  "Product Launch",
  "Engineering",
  "Leadership",
  "Customer Success",
  "Finance Close",
  "IT Helpdesk",
  "Marketing Campaigns",
];
const CHANNEL_NAMES = ["General", "Announcements", "Planning", "Design", "Support", "Random"];
/** Browser/OS combinations seen in sign-in and SharePoint records. */
const CLIENTS: [userAgent: string, os: string, browser: string][] = [
  [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
    "Windows10",
    "Edge 126.0.0",
  ],
  [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
    "Windows10",
    "Chrome 125.0.0",
  ],
  [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "MacOs",
    "Safari 17.4",
  ],
  [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0",
    "MacOs",
    "Firefox 127.0",
  ],
  [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Ios",
    "Mobile Safari",
  ],
  [
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17726; Pro)",
    "Windows10",
    "Rich Client 16.0.17726",
  ],
];

/** ASCII stand-ins for the accented letters in the name pools. */
const ASCII_FOLD: Record<string, string> = { ë: "e", é: "e", ø: "o", ü: "u", ñ: "n", ú: "u" };

function upperHex(rng: Rng, words: number): string {
  let out = "";
  for (let i = 0; i < words; i++) out += hex32(rng.next());
  return out.toUpperCase();
}

/** A documentation-range IPv4 address (RFC 5737), so no real network is implied. */
function testNetIpv4(rng: Rng): string {
  const prefix = rng.pick(["192.0.2", "198.51.100", "203.0.113"]);
  return `${prefix}.${rng.int(1, 254)}`;
}

/** A documentation-range IPv6 address (RFC 3849). */
function testNetIpv6(rng: Rng): string {
  const word = () => (rng.next() & 0xffff).toString(16);
  return `2001:db8:${word()}:${word()}:${word()}:${word()}:${word()}:${word()}`;
}

/** Builds the emulated organisation; same (tenantId, seed) → same people and places. */
export function buildTenant(tenantId: string, seed: number): TenantModel {
  const rng = new Rng(hashString(tenantId), seed, 0x7e4a47, 1);
  const orgName = `${rng.pick(ORG_NAMES)}${rng.int(10, 99)}`;
  const domain = `${orgName}.onmicrosoft.com`;
  const sharePointUrl = `https://${orgName}.sharepoint.com`;
  const oneDriveUrl = `https://${orgName}-my.sharepoint.com`;
  const [forest, serverRegion] = rng.pick(EXCHANGE_FORESTS);
  const users: TenantUser[] = [];
  const usedAliases = new Set<string>();
  const sidBase = `S-1-5-21-${rng.int(1e9, 4e9)}-${rng.int(1e9, 4e9)}-${rng.int(1e9, 4e9)}`;
  while (users.length < 36) {
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    // UPNs are ASCII even when display names are not. (Not String#normalize: its output is a
    // two-byte string, and two-byte pieces make every blob body slow to flatten and encode.)
    const alias = `${first}.${last}`.toLowerCase().replace(/[^a-z.]/g, (c) => ASCII_FOLD[c] ?? "");
    if (usedAliases.has(alias)) continue;
    usedAliases.add(alias);
    const guest = users.length >= 33;
    const upn = guest ? `${alias}_partnerco.example#EXT#@${domain}` : `${alias}@${domain}`;
    const [userAgent, os, browser] = rng.pick(CLIENTS);
    const objectId = randomGuid(rng);
    const puid = `10032000${upperHex(rng, 1)}`;
    const ipv4 = testNetIpv4(rng);
    const ipv6 = testNetIpv6(rng);
    users.push({
      upn,
      displayName: `${first} ${last}`,
      alias,
      objectId,
      puid,
      sid: `${sidBase}-${rng.int(1_000_000, 99_999_999)}`,
      mailboxGuid: randomGuid(rng),
      ipv4,
      ipv6,
      userAgent,
      os,
      browser,
      guest,
      oneDriveSiteId: randomGuid(rng),
      oneDrive: `${oneDriveUrl}/personal/${upn.replace(/[.@#]/g, "_").toLowerCase()}/`,
      department: rng.pick(DEPARTMENTS),
      yammerUserId: rng.int(1_000_000, 9_999_999) * 10_000 + rng.int(0, 9999),
      json: {
        upn: JSON.stringify(upn),
        displayName: JSON.stringify(`${first} ${last}`),
        objectId: JSON.stringify(objectId),
        puid: JSON.stringify(puid),
        ipv4: JSON.stringify(ipv4),
        ipv6: JSON.stringify(ipv6),
        userAgent: JSON.stringify(userAgent),
      },
    });
  }
  const sites = SITE_TITLES.map((title) => ({
    url: `${sharePointUrl}/sites/${title}`,
    title,
    siteId: randomGuid(rng),
    webId: randomGuid(rng),
    listId: randomGuid(rng),
  }));
  const teams = TEAM_NAMES.map((name) => ({
    name,
    teamGuid: `19:${hex32(rng.next())}${hex32(rng.next())}${hex32(rng.next())}${hex32(rng.next())}@thread.tacv2`,
    groupId: randomGuid(rng),
    channels: CHANNEL_NAMES.slice(0, rng.int(2, CHANNEL_NAMES.length)).map((channel) => ({
      name: channel,
      id: `19:${hex32(rng.next())}${hex32(rng.next())}@thread.tacv2`,
    })),
  }));
  return Object.freeze({
    tenantId,
    orgName,
    domain,
    sharePointUrl,
    oneDriveUrl,
    region: rng.pick(REGIONS),
    exchangeOrgPath: `${forest}.prod.outlook.com/Microsoft Exchange Hosted Organizations/${domain}`,
    serverPrefix: `${serverRegion}${String(rng.int(1, 19)).padStart(2, "0")}MB`,
    users,
    admins: users.slice(0, 4),
    sites,
    teams,
    yammerNetworkId: rng.int(100_000, 999_999) * 10_000 + rng.int(0, 9999),
  });
}
