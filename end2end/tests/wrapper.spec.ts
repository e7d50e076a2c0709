import { test, expect, type Page } from "@playwright/test";
import { countRequests, hydrated, registerViaForm, uniqueName, watchConsole } from "./support";

// The request wrapper's paths that the token's own expiry does not reach.

async function storedTokens(page: Page): Promise<{ accessToken: string; refreshToken: string }> {
  return page.evaluate(() => JSON.parse(localStorage.getItem("auth.tokens") ?? "null"));
}

/** The statuses the page receives for `path`, in order. */
function statusesOf(page: Page, path: string): number[] {
  const statuses: number[] = [];
  page.on("response", (r) => {
    if (new URL(r.url()).pathname === path) statuses.push(r.status());
  });
  return statuses;
}

test("a token the server rejects is refreshed once and the call retried", async ({ page }) => {
  const errors = watchConsole(page);
  await registerViaForm(page, uniqueName("retry"));
  await page.getByRole("link", { name: "Protected" }).click();
  await expect(page.locator("#protected-message")).toBeVisible();
  // The stored access token is not stale by its own clock, but its
  // signature is spoiled: the server answers 401 invalid_token.
  await page.evaluate(() => {
    const tokens = JSON.parse(localStorage.getItem("auth.tokens")!);
    const [header, claims, signature] = tokens.accessToken.split(".");
    const flipped = (signature[0] === "A" ? "B" : "A") + signature.slice(1);
    tokens.accessToken = [header, claims, flipped].join(".");
    localStorage.setItem("auth.tokens", JSON.stringify(tokens));
  });
  const protectedCalls = statusesOf(page, "/api/auth/protected");
  const refreshes = countRequests(page, "/api/auth/refresh");
  const before = await page.locator("#server-time").textContent();
  await page.waitForTimeout(1_100);
  await page.getByRole("button", { name: "Call again" }).click();
  await expect(page.locator("#server-time")).not.toHaveText(before!);
  expect(protectedCalls).toEqual([401, 200]);
  expect(refreshes.count).toBe(1);
  expect(errors.filter((e) => !e.includes("401"))).toEqual([]);
});

test("a session ended elsewhere sends the user to sign in, saying why", async ({ page, request }) => {
  await registerViaForm(page, uniqueName("ended"));
  await page.getByRole("link", { name: "Protected" }).click();
  await expect(page.locator("#protected-message")).toBeVisible();
  // Every session ends from another device.
  const { accessToken } = await storedTokens(page);
  const ended = await request.post("/api/auth/logout-all", { headers: { authorization: `Bearer ${accessToken}` } });
  expect(ended.status()).toBe(200);
  const refreshes = statusesOf(page, "/api/auth/refresh");
  await page.getByRole("button", { name: "Call again" }).click();
  await expect(page).toHaveURL(/\/login\?next=%2Fprotected&reason=expired$/);
  await hydrated(page);
  await expect(page.locator("#login-notice")).toHaveText("Your session has expired. Please sign in again.");
  expect(refreshes).toEqual([401]);
  expect(await storedTokens(page)).toBeNull();
  await page.screenshot({ path: "test-results/session-ended.png", fullPage: true });
});

for (const failure of ["throws", "rejects"] as const) {
  test(`a refresh still happens when the Web Lock request ${failure}`, async ({ page, baseURL }) => {
    await page.addInitScript((how) => {
      const locks = navigator.locks;
      if (!locks) return;
      locks.request = (() => {
        if (how === "throws") throw new DOMException("refused", "SecurityError");
        return Promise.reject(new DOMException("refused", "SecurityError"));
      }) as typeof locks.request;
    }, failure);
    expect(baseURL).toBeTruthy();
    await registerViaForm(page, uniqueName(`lock${failure}`));
    await page.getByRole("link", { name: "Protected" }).click();
    await expect(page.locator("#protected-message")).toBeVisible();
    // Force the refresh path: the stored token is declared expired.
    await page.evaluate(() => {
      const tokens = JSON.parse(localStorage.getItem("auth.tokens")!);
      tokens.expiresAt = Math.floor(Date.now() / 1000) - 1;
      localStorage.setItem("auth.tokens", JSON.stringify(tokens));
    });
    const refreshes = countRequests(page, "/api/auth/refresh");
    const before = await page.locator("#server-time").textContent();
    await page.waitForTimeout(1_100);
    await page.getByRole("button", { name: "Call again" }).click();
    await expect(page.locator("#server-time")).not.toHaveText(before!, { timeout: 5_000 });
    expect(refreshes.count).toBe(1);
  });
}
