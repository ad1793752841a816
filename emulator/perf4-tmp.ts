import { buildCatalogue, renderBlob } from "./src/generator";
const c = buildCatalogue({ contentTypes: ["Audit.Exchange", "Audit.SharePoint","Audit.General","Audit.AzureActiveDirectory"], historyHours: 2, blobsPerHour: 20, recordsPerBlob: [500, 1500], lateRate: 0 }, 5, Date.now());
const counts = new Map<string, number>();
for (const b of c.blobs.slice(0, 40)) { try { for (const x of renderBlob(b)) for (const ch of x) if (ch.charCodeAt(0) > 127) counts.set(ch, (counts.get(ch) ?? 0) + 1); } catch {} }
console.error([...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20));
