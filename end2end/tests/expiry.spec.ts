import { test, expect } from "@playwright/test";
import { countRequests, hydrated, registerViaForm, uniqueName, watchConsole } from "./support";

// A server whose access tokens live 3 seconds, signed with an Ed25519 key
// (scripts/test starts it).
test.use({ baseURL: process.env.SHORT_TTL_URL });

test.beforeAll(() => {
  expect(process.env.SHORT_TTL_URL, "SHORT_TTL_URL names the short-TTL server").toBeTruthy();
});

test("an expired access token is refreshed invisibly while using the app", async ({ page }) => {
  const errors = watchConsole(page);
  await registerViaForm(page, uniqueName("expiry"));
  await page.getByRole("link", { name: "Protected" }).click();
  await expect(page.locator("#protected-message")).toBeVisible();
  const refreshes = countRequests(page, "/api/auth/refresh");
  await page.waitForTimeout(4_000);
  const before = await page.locator("#server-time").textContent();
  await page.getByRole("button", { name: "Call again" }).click();
  await expect(page.locator("#server-time")).not.toHaveText(before!);
  await expect(page.locator("#protected-message")).toBeVisible();
  expect(refreshes.count).toBe(1);
  await expect(page).toHaveURL(/\/protected$/);
  // The refreshed token is an EdDSA one whose key the server publishes.
  const token: string = await page.evaluate(() => JSON.parse(localStorage.getItem("auth.tokens")!).accessToken);
  const header = JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString());
  expect(header.alg).toBe("EdDSA");
  const jwks = await (await page.request.get("/.well-known/jwks.json")).json();
  expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([header.kid]);
  await page.screenshot({ path: "test-results/expiry-refreshed.png", fullPage: true });
  expect(errors).toEqual([]);
});

test("two tabs whose tokens expire together send one refresh in all", async ({ context }) => {
  const first = await context.newPage();
  await registerViaForm(first, uniqueName("tabs"));
  await first.getByRole("link", { name: "Protected" }).click();
  await expect(first.locator("#protected-message")).toBeVisible();
  const second = await context.newPage();
  await second.goto("/protected");
  await hydrated(second);
  await expect(second.locator("#protected-message")).toBeVisible();

  // Both tabs hold the same tokens (one store); let them expire.
  let refreshes = 0;
  context.on("request", (r) => {
    if (new URL(r.url()).pathname === "/api/auth/refresh") refreshes += 1;
  });
  await first.waitForTimeout(4_000);
  const before = await Promise.all([first, second].map((p) => p.locator("#server-time").textContent()));
  await Promise.all([first, second].map((p) => p.getByRole("button", { name: "Call again" }).click()));
  for (const [i, p] of [first, second].entries()) {
    await expect(p.locator("#server-time")).not.toHaveText(before[i]!);
    await expect(p.locator("#protected-message")).toBeVisible();
  }
  expect(refreshes).toBe(1);
  await second.screenshot({ path: "test-results/two-tabs.png", fullPage: true });
});
