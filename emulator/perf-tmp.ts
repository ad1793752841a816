import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { createInterface } from "node:readline";

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function main() {
  const scenario = JSON.stringify({ contentTypes: ["Audit.Exchange", "Audit.SharePoint"], historyHours: 24, blobsPerHour: 20, recordsPerBlob: [500, 1500], lateRate: 0 });
  const child = spawn(process.execPath, ["--import", "tsx", "emulator/src/cli.ts", "--json", "--print-secret", "--seed", "5", "--scenario", scenario], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once("line", resolve));
  const info = JSON.parse(line);
  const tok = await fetch(`${info.url}/${info.tenant.tenantId}/oauth2/v2.0/token`, { method: "POST", body: new URLSearchParams({ grant_type: "client_credentials", client_id: info.tenant.clientId, client_secret: info.tenant.clientSecret, scope: "https://manage.office.com/.default" }) });
  const token = ((await tok.json()) as { access_token: string }).access_token;
  const root = `${info.url}/api/v1.0/${info.tenant.tenantId}/activity/feed`;
  const ids: string[] = [];
  for (const ct of ["Audit.Exchange", "Audit.SharePoint"]) {
    await fetch(`${root}/subscriptions/start?contentType=${ct}`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
    let next: string | null = `${root}/subscriptions/content?contentType=${ct}`;
    while (next) { const r = await fetch(next, { headers: { Authorization: `Bearer ${token}` } }); for (const b of (await r.json()) as { contentId: string }[]) ids.push(b.contentId); next = r.headers.get("NextPageUri"); }
  }
  const blobs = ids.slice(0, 120);
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const cpu0 = cpuSeconds(child.pid!);
  const start = performance.now();
  let bytes = 0, records = 0, i = 0;
  async function worker() {
    while (i < blobs.length) {
      const id = blobs[i++]!;
      await new Promise<void>((resolve, reject) => {
        request(`${root}/audit/${id}`, { headers: { Authorization: `Bearer ${token}` }, agent }, (res) => {
          let last = 0;
          res.on("data", (c: Buffer) => { bytes += c.length; for (let k = c.indexOf('"Id":"'); k !== -1; k = c.indexOf('"Id":"', k + 1)) last++; });
          res.on("end", () => { records += last; resolve(); });
          res.on("error", reject);
        }).on("error", reject).end();
      });
    }
  }
  await Promise.all([worker(), worker(), worker(), worker()]);
  const wall = (performance.now() - start) / 1000;
  const serverCpu = cpuSeconds(child.pid!) - cpu0;
  process.stderr.write(`${records} records (~"Id" fields), ${(bytes / 1e6).toFixed(0)} MB; wall ${wall.toFixed(1)} s; server CPU ${serverCpu.toFixed(2)} s => ${(records / serverCpu).toFixed(0)} records per server CPU-second, ${(bytes / 1e6 / serverCpu).toFixed(0)} MB per CPU-second\n`);
  agent.destroy();
  child.kill("SIGTERM");
}
main();
