import { test, expect, type Page } from "@playwright/test";
import { PASSWORD, hydrated, loginViaForm, registerViaApi, uniqueName } from "./support";

// The forms work before the app has loaded, and without JavaScript at all:
// the browser posts them, and no secret ever reaches a URL.

/** Every URL the page requests, to check that no secret is in one. */
function requestedUrls(page: Page): string[] {
  const urls: string[] = [];
  page.on("request", (r) => urls.push(r.url()));
  return urls;
}

function expectNoSecretIn(urls: string[]): void {
  for (const url of urls) {
    expect(url).not.toContain(encodeURIComponent(PASSWORD));
    expect(url).not.toContain(PASSWORD.replaceAll(" ", "+"));
    expect(url).not.toContain("password=");
  }
}

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the login form signs in and goes to next, with no secret in a URL", async ({ page, request }) => {
    const name = uniqueName("nojs");
    await registerViaApi(request, name);
    const urls = requestedUrls(page);
    await page.goto("/login?next=%2Fprofile");
    await page.getByLabel("Username or email").fill(name);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page).toHaveURL(/\/profile$/);
    await expect(page.locator("#profile-username")).toHaveText(name);
    expectNoSecretIn(urls);
    await page.screenshot({ path: "test-results/no-js-login.png", fullPage: true });
  });

  test("a wrong password keeps the user on the form with the message", async ({ page, request }) => {
    const name = uniqueName("nojswrong");
    await registerViaApi(request, name);
    const urls = requestedUrls(page);
    await page.goto("/login");
    await page.getByLabel("Username or email").fill(name);
    await page.getByLabel("Password", { exact: true }).fill("not the password");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page.locator(".form-errors")).toContainText("Invalid username or password.");
    await expect(page.getByLabel("Username or email")).toHaveValue(name);
    await expect(page).toHaveURL(/\/login$/);
    expectNoSecretIn(urls);
  });

  test("registration lists every problem, then registers", async ({ page }) => {
    const name = uniqueName("nojsreg");
    await page.goto("/register");
    await page.getByLabel("Username").fill(name);
    await page.getByLabel("Email").fill("not-an-email");
    await page.getByLabel("Full name").fill("No Script");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByLabel("Confirm password").fill("something else");
    await page.getByRole("button", { name: "Register" }).click();
    const summary = page.locator(".form-errors");
    await expect(summary).toContainText("Email must be a valid email address.");
    await expect(summary).toContainText("Passwords do not match.");
    await expect(page.getByLabel("Username")).toHaveValue(name);
    await expect(page.getByLabel("Password", { exact: true })).toHaveValue("");
    await page.getByLabel("Email").fill(`${name}@example.com`);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByLabel("Confirm password").fill(PASSWORD);
    await page.getByRole("button", { name: "Register" }).click();
    await expect(page).toHaveURL(/\/profile$/);
    await expect(page.locator("#profile-username")).toHaveText(name);
  });
});

test("a form sent before the app loaded signs in, and the app then holds the tokens", async ({ page, request }) => {
  const name = uniqueName("early");
  await registerViaApi(request, name);
  // The app's code waits at the gate: the user is faster than the network.
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  await page.route(/\.wasm$/, async (route) => {
    await gate;
    await route.continue().catch(() => {});
  });
  await page.goto("/login");
  await page.getByLabel("Username or email").fill(name);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.locator("#profile-username")).toHaveText(name);
  open();
  await hydrated(page);
  // The sessions list comes from the API: the app signed in with the tokens
  // the server handed over.
  await expect(page.locator("#sessions .session[data-current=true]")).toBeVisible();
  const stored = await page.evaluate(() => localStorage.getItem("auth.tokens"));
  expect(stored).toContain(name);
});

// Hostile `next` values: after signing in, the user stays on this site.
const HOSTILE_NEXT = [
  "//evil.example",
  "/\\evil.example",
  "/\t/evil.example",
  "/\n/evil.example",
  "https://evil.example/",
  "javascript:alert(document.domain)",
  "/%09/evil.example",
  "\\/evil.example",
];

for (const next of HOSTILE_NEXT) {
  test(`signing in never follows next=${JSON.stringify(next)} off the site`, async ({ page, request, baseURL }) => {
    const name = uniqueName("next");
    await registerViaApi(request, name);
    await page.goto(`/login?next=${encodeURIComponent(next)}`);
    await loginViaForm(page, name);
    await page.waitForURL((url) => url.pathname !== "/login");
    await page.waitForTimeout(300);
    expect(new URL(page.url()).origin).toBe(new URL(baseURL!).origin);
  });
}
