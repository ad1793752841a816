import { createServer, request, Agent } from "node:https";
import { readFileSync } from "node:fs";
const bundle = JSON.parse(readFileSync(".auditbridge/test-ca/bundle.json", "utf8"));
const chunk = "x".repeat(65536);
const mode = process.argv[2] ?? "string";
const buf = Buffer.from(chunk);
const server = createServer({ cert: bundle.cert, key: bundle.key }, async (_req, res) => {
  res.writeHead(200, { "Content-Type": "application/json" });
  for (let i = 0; i < 400; i++) {
    const ok = mode === "string" ? res.write(chunk) : res.write(buf);
    if (!ok) await new Promise((r) => res.once("drain", r));
  }
  res.end();
});
server.listen(0, "127.0.0.1", async () => {
  const port = (server.address() as any).port;
  const agent = new Agent({ keepAlive: true });
  // measure only server side in-process: subtract client by using a separate process is better; here total
  const c0 = process.cpuUsage(); const t0 = performance.now();
  let bytes = 0;
  for (let k = 0; k < 10; k++) await new Promise<void>((resolve) => request(`https://127.0.0.1:${port}/`, { agent, ca: readFileSync(".auditbridge/test-ca/ca.pem") }, (res) => { res.on("data", (d: Buffer) => { bytes += d.length; }); res.on("end", resolve); }).end());
  const c = process.cpuUsage(c0);
  console.error(mode, (bytes / 1e6).toFixed(0), "MB", ((c.user + c.system) / 1e6).toFixed(2), "cpu-s (client+server)", ((performance.now() - t0) / 1000).toFixed(1), "s wall");
  agent.destroy(); server.close();
});
