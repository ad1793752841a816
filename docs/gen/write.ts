/**
 * Writes every documentation page that mirrors code: one page per module in docs/gen (see
 * docs/gen/lib/pages.ts for the contract). test/docs/generated.test.ts fails when a committed
 * page differs from what its module renders.
 *
 * Usage: npm run docs
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { committedText, loadPages, pageText, REPO_ROOT } from "./lib/pages";

async function main(): Promise<void> {
  for (const page of await loadPages()) {
    writeFileSync(path.join(REPO_ROOT, page.PAGE_PATH), pageText(page, committedText(page)));
    const what = page.REGION === undefined ? page.PAGE_PATH : `${page.PAGE_PATH} (${page.REGION})`;
    process.stderr.write(`wrote ${what} (from ${page.modulePath})\n`);
  }
}

main().catch((error: unknown) => {
  console.error(`docs: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
