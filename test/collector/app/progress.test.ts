import { describe, expect, it } from "vitest";
import { createMetrics } from "../../../collector/src/metrics";
import {
  formatLag,
  ProgressDisplay,
  renderProgressLine,
  sampleProgress,
} from "../../../collector/src/progress";

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return {
    writes,
    stream: {
      isTTY,
      columns: 120,
      write: (text: string) => {
        writes.push(text);
        return true;
      },
    },
  };
}

describe("progress display", () => {
  it("formats lag with its two most significant units", () => {
    expect(formatLag(0)).toBe("0s");
    expect(formatLag(59)).toBe("59s");
    expect(formatLag(3_725)).toBe("1h2m");
    expect(formatLag(93_784)).toBe("1d2h");
  });

  it("sums delivered records and fetched blobs over content types and takes the largest lag", async () => {
    const metrics = createMetrics();
    metrics.recordsDelivered.inc({ content_type: "Audit.Exchange" }, 10);
    metrics.recordsDelivered.inc({ content_type: "DLP.All" }, 5);
    metrics.blobsFetched.inc({ content_type: "DLP.All" }, 3);
    metrics.lagSeconds.set({ content_type: "Audit.Exchange" }, 120);
    metrics.lagSeconds.set({ content_type: "DLP.All" }, 7_200);
    expect(await sampleProgress(metrics)).toEqual({ records: 15, blobs: 3, lagSeconds: 7_200 });
  });

  it("renders records per second, blobs and lag on one line", () => {
    expect(renderProgressLine({ records: 12_345, blobs: 67, lagSeconds: 93_784 }, 1_234.4)).toBe(
      "catching up: 12,345 records (1234/s), 67 blobs, lag 1d2h",
    );
  });

  it("draws on a terminal while catching up and clears once caught up", async () => {
    const metrics = createMetrics();
    const { stream, writes } = fakeStream(true);
    let nowMs = 0;
    const display = new ProgressDisplay({
      stream,
      metrics,
      catchingUpLagSeconds: 120,
      nowMs: () => nowMs,
    });
    metrics.lagSeconds.set({ content_type: "Audit.Exchange" }, 86_400);
    await display.tick();
    metrics.recordsDelivered.inc({ content_type: "Audit.Exchange" }, 500);
    nowMs += 1_000;
    await display.tick();
    expect(writes.at(-1)).toBe("\r\x1b[2Kcatching up: 500 records (500/s), 0 blobs, lag 1d");
    metrics.lagSeconds.set({ content_type: "Audit.Exchange" }, 30);
    nowMs += 1_000;
    await display.tick();
    expect(writes.at(-1)).toBe("\r\x1b[2K");
    display.stop();
  });

  it("keeps log lines apart from the progress line", async () => {
    const metrics = createMetrics();
    const { stream, writes } = fakeStream(true);
    const display = new ProgressDisplay({ stream, metrics, catchingUpLagSeconds: 120 });
    await display.tick();
    writes.length = 0;
    display.logDestination().write('{"msg":"hello"}\n');
    expect(writes).toEqual([
      "\r\x1b[2K",
      '{"msg":"hello"}\n',
      "\r\x1b[2Kcatching up: 0 records (0.0/s), 0 blobs, lag –",
    ]);
  });

  it("writes nothing but log lines when stderr is not a terminal", async () => {
    const metrics = createMetrics();
    const { stream, writes } = fakeStream(false);
    const display = new ProgressDisplay({ stream, metrics, catchingUpLagSeconds: 120 });
    display.start();
    await display.tick();
    display.logDestination().write("line\n");
    display.stop();
    expect(display.enabled).toBe(false);
    expect(writes).toEqual(["line\n"]);
  });
});
