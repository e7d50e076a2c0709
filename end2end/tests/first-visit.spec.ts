import { test, expect } from "@playwright/test";
import { hydrated } from "./support";

// What a first visit costs a user on a slow connection: every byte over the
// wire (compressed), and the time until the page is usable. Chrome's "Slow
// 3G": 2 s round trips, 50 kB/s each way.
test("a first visit to the login page transfers under 250 KB", async ({ page, context }) => {
  test.setTimeout(120_000);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 2000,
    downloadThroughput: 50_000,
    uploadThroughput: 50_000,
  });
  const transferred = new Map<string, number>();
  cdp.on("Network.loadingFinished", (e) => transferred.set(e.requestId, e.encodedDataLength));
  const started = Date.now();
  await page.goto("/login", { waitUntil: "domcontentloaded" });
  await expect(page.getByRole("button", { name: "Log in" })).toBeVisible();
  const formShown = Date.now() - started;
  await hydrated(page);
  const hydratedAfter = Date.now() - started;
  await page.waitForLoadState("networkidle");
  const bytes = [...transferred.values()].reduce((a, b) => a + b, 0);
  console.log(
    `first visit to /login on slow 3G: ${bytes} bytes in ${transferred.size} responses; ` +
      `form usable (server HTML) after ${formShown} ms, app hydrated after ${hydratedAfter} ms`,
  );
  expect(transferred.size).toBeGreaterThan(2);
  expect(bytes).toBeLessThan(250_000);
});
