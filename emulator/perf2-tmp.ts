import { buildCatalogue, renderBlob } from "./src/generator";
const c = buildCatalogue({ contentTypes: ["Audit.Exchange", "Audit.SharePoint"], historyHours: 24, blobsPerHour: 20, recordsPerBlob: [500, 1500], lateRate: 0 }, 5, Date.now());
const blobs = c.blobs.slice(0, 120);
const out = Buffer.allocUnsafe(4 << 20);
for (const mode of ["render", "write-into", "Buffer.from", "render", "write-into", "Buffer.from"]) {
  const cpu0 = process.cpuUsage();
  let n = 0;
  for (const b of blobs) for (const x of renderBlob(b)) { if (mode === "write-into") n += out.write(x, 0); else if (mode === "Buffer.from") n += Buffer.from(x).length; else n += x.length; }
  const cpu = process.cpuUsage(cpu0);
  process.stderr.write(`${mode}: ${((cpu.user + cpu.system) / 1e6).toFixed(2)} cpu-s (${(n / 1e6).toFixed(0)} MB)\n`);
}
