import { test, expect } from "@playwright/test";
import { watchConsole } from "./support";

test("the home page is rendered on the server, then hydrated", async ({ page }) => {
  const errors = watchConsole(page);
  // Without JavaScript: the server's HTML already holds the page.
  const html = await (await page.request.get("/")).text();
  expect(html).toContain("Rust auth server");
  expect(html).toContain("Checking the API");

  // The page hydrates under a Content-Security-Policy without 'unsafe-inline':
  // a blocked script would show up in `errors` and the badge would stay grey.
  const response = await page.goto("/");
  const policy = response!.headers()["content-security-policy"];
  expect(policy).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]{22}' 'wasm-unsafe-eval'/);
  expect(policy).not.toContain("unsafe-inline");
  await expect(page.locator("h1")).toHaveText("Rust auth server");
  // The badge turns green only when the WASM app has hydrated and called /api/health.
  await expect(page.locator("#api-health .badge")).toHaveAttribute("data-state", "ok");
  await expect(page.locator("#api-health")).toContainText("API ok");
  await page.screenshot({ path: "test-results/home.png", fullPage: true });
  expect(errors).toEqual([]);
});

test("the stylesheet and the WASM bundle have hashed names and are cached", async ({ page, request }) => {
  await page.goto("/");
  const href = await page.locator("link#leptos").getAttribute("href");
  expect(href).toMatch(/^\/pkg\/auth\.[A-Za-z0-9_-]+\.css$/);
  const css = await request.get(href!);
  expect(css.status()).toBe(200);
  expect(css.headers()["cache-control"]).toContain("immutable");
  // The styles are applied: the body uses the stylesheet's font stack.
  const font = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
  expect(font).toContain("system-ui");
});

test("a page that does not exist is a 404 with a way back", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response!.status()).toBe(404);
  await expect(page.locator("h1")).toHaveText("Page not found");
  await page.getByRole("link", { name: "Back to the start page" }).click();
  await expect(page).toHaveURL(/\/$/);
  await page.screenshot({ path: "test-results/not-found.png", fullPage: true });
});

test("the API answers unknown paths in the JSON envelope", async ({ request }) => {
  const response = await request.get("/api/nothing");
  expect(response.status()).toBe(404);
  const body = await response.json();
  expect(body.isSuccess).toBe(false);
});

test("the pages follow the system's dark mode", async ({ browser }) => {
  const context = await browser.newContext({ colorScheme: "dark" });
  const page = await context.newPage();
  await page.goto("/login");
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(background).toBe("rgb(15, 18, 22)");
  await page.screenshot({ path: "test-results/dark-login.png", fullPage: true });
  await context.close();
});
