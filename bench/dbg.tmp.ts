import path from "node:path";
import { collectorEnv, runCollectorOnce } from "/work/main/bench/lib/collector";
import { createWorkspace } from "/work/main/bench/lib/common";
import { startBenchEmulator, SETTLED_BACKDATE_MS } from "/work/main/bench/lib/emulatorSetup";
import { compareWithTruth, normaliseIds, readDeliveredIds, sinkFiles } from "/work/main/bench/lib/truth";
(async () => {
  const { emulator } = await startBenchEmulator({ seed: 1, scenario: { historyHours: 48, blobsPerHour: 0.2, recordsPerBlob: [500,1500] }, backdateMs: SETTLED_BACKDATE_MS });
  const ws = createWorkspace("dbg");
  const exit = await runCollectorOnce({ env: collectorEnv({ emulator, state: ws.statePath, sink: { kind: "file", filePath: ws.filePath }, quarantineDir: ws.quarantineDir, logLevel: "info" }) });
  const counts = await readDeliveredIds(await sinkFiles(ws.filePath));
  for (const ct of emulator.scenario.contentTypes) {
    const exp = normaliseIds(emulator.truth.expectedRecordIds([ct]));
    const c = compareWithTruth(exp, new Map([...counts].filter(([id]) => exp.has(id))));
    process.stdout.write(`${ct}: ${JSON.stringify(c)} blobs=${emulator.truth.listedBlobs(ct).length}\n`);
  }
  process.stdout.write(exit.stderrTail.join("\n") + "\n");
  const log = emulator.truth.requestLog().filter(e => e.status !== 200);
  process.stdout.write(JSON.stringify(log.slice(0, 10)) + "\n");
  ws.dispose(); await emulator.stop();
})();
