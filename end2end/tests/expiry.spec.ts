import { test, expect } from "@playwright/test";
import { countRequests, registerViaForm, uniqueName, watchConsole } from "./support";

// A server whose access tokens live 3 seconds (scripts/test starts it).
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
  await page.screenshot({ path: "test-results/expiry-refreshed.png", fullPage: true });
  expect(errors).toEqual([]);
});

test("five calls at once after expiry cause exactly one refresh", async ({ page }) => {
  await registerViaForm(page, uniqueName("burst"));
  await page.getByRole("link", { name: "Protected" }).click();
  await expect(page.locator("#protected-message")).toBeVisible();
  await page.waitForTimeout(4_000);
  const refreshes = countRequests(page, "/api/auth/refresh");
  const calls = countRequests(page, "/api/auth/protected");
  await page.getByRole("button", { name: "Five calls at once" }).click();
  await expect(page.locator("#burst-result")).toHaveText("5 of 5 calls succeeded");
  expect(refreshes.count).toBe(1);
  expect(calls.count).toBe(5);
  await page.screenshot({ path: "test-results/five-calls.png", fullPage: true });
});
