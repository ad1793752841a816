/**
 * Writes every documentation page that mirrors code: one page per module in docs/gen (see
 * docs/gen/lib/pages.ts for the contract). test/docs/generated.test.ts fails when a committed
 * page differs from what its module renders.
 *
 * Usage: npm run docs
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { loadPages, REPO_ROOT, renderPage } from "./lib/pages";

async function main(): Promise<void> {
  for (const page of await loadPages()) {
    writeFileSync(path.join(REPO_ROOT, page.PAGE_PATH), renderPage(page));
    process.stderr.write(`wrote ${page.PAGE_PATH} (from ${page.modulePath})\n`);
  }
}

main().catch((error: unknown) => {
  console.error(`docs: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
