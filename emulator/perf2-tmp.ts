import { buildCatalogue, renderBlob } from "./src/generator";
const c = buildCatalogue({ contentTypes: ["Audit.Exchange", "Audit.SharePoint"], historyHours: 24, blobsPerHour: 20, recordsPerBlob: [500, 1500], lateRate: 0 }, 5, Date.now());
const blobs = c.blobs.slice(0, 120);
const out = Buffer.allocUnsafe(4 << 20);
let tFlat = 0n, tWrite = 0n, tOneByte = 0n, two = 0, one = 0;
const c0 = process.cpuUsage();
for (const b of blobs) for (const x of renderBlob(b)) {
  let s = process.hrtime.bigint(); x.charCodeAt(x.length >> 1); tFlat += process.hrtime.bigint() - s;
  s = process.hrtime.bigint(); const n = out.write(x, 0); tWrite += process.hrtime.bigint() - s;
  if (n === x.length) one++; else two++;
  s = process.hrtime.bigint(); out.write(x, 0); tOneByte += process.hrtime.bigint() - s;
}
const c1 = process.cpuUsage(c0);
process.stderr.write(`flatten ${Number(tFlat) / 1e9}s, first write ${Number(tWrite) / 1e9}s, second write ${Number(tOneByte) / 1e9}s; two-byte chunks ${two}, one-byte ${one}; total cpu ${(c1.user + c1.system) / 1e6}\n`);
