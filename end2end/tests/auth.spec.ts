import { test, expect } from "@playwright/test";
import {
  PASSWORD,
  countRequests,
  hydrated,
  loginViaForm,
  registerViaApi,
  registerViaForm,
  uniqueName,
  watchConsole,
} from "./support";

test("register and land on the profile", async ({ page }) => {
  const errors = watchConsole(page);
  const name = uniqueName("reg");
  await registerViaForm(page, name);
  await expect(page.locator("#signed-in-as")).toContainText(name);
  await expect(page.locator("#profile-role")).toHaveText("User");
  await expect(page.locator("#profile-expiry")).toContainText("min)");
  await page.screenshot({ path: "test-results/register-profile.png", fullPage: true });
  expect(errors).toEqual([]);
});

test("a reload stays signed in, and the server's HTML already holds the username", async ({ page }) => {
  const name = uniqueName("reload");
  await registerViaForm(page, name);
  // The page as the server renders it, with the browser's cookies: no flash of a signed-out page.
  const response = await page.request.get("/profile", { maxRedirects: 0 });
  expect(response.status()).toBe(200);
  const html = await response.text();
  // The name is in the server's HTML (a hydration marker may follow it).
  expect(html).toMatch(new RegExp(`<dd id="profile-username">${name}(<!>)?</dd>`));
  await page.reload();
  await expect(page.locator("#profile-username")).toHaveText(name);
  await hydrated(page);
  await expect(page.locator("#profile-username")).toHaveText(name);
  await page.screenshot({ path: "test-results/reload.png", fullPage: true });
});

test("a wrong password is refused with the server's message", async ({ page, request }) => {
  const name = uniqueName("wrong");
  await registerViaApi(request, name);
  await page.goto("/login");
  await loginViaForm(page, name, "not the password");
  const summary = page.locator(".form-errors");
  await expect(summary).toContainText("Invalid username or password.");
  await expect(summary).toBeFocused();
  await expect(page).toHaveURL(/\/login$/);
  await page.screenshot({ path: "test-results/wrong-password.png", fullPage: true });
});

test("every registration rule is shown as the user types", async ({ page, request }) => {
  const taken = uniqueName("taken");
  await registerViaApi(request, taken);
  await page.goto("/register");
  await hydrated(page);
  const error = (id: string) => page.locator(`#${id}-error`);

  await page.getByLabel("Username").fill("ab");
  await page.getByLabel("Email").focus();
  await expect(error("username")).toHaveText("Username must be 3 to 50 characters long.");
  await page.getByLabel("Username").fill("no spaces!");
  await expect(error("username")).toHaveText("Username may contain only letters, digits, '_', '.' and '-'.");
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByLabel("Full name").focus();
  await expect(error("email")).toHaveText("Email must be a valid email address.");
  await page.getByLabel("Full name").fill("   ");
  await page.getByLabel("Password", { exact: true }).focus();
  await expect(error("fullName")).toHaveText("Full name must be 1 to 100 characters long.");
  await page.getByLabel("Password", { exact: true }).fill("12345");
  await page.getByLabel("Confirm password").focus();
  await expect(error("password")).toHaveText("Password must be 6 to 100 characters long.");
  await page.getByLabel("Confirm password").fill("123456");
  await page.getByLabel("Username").focus();
  await expect(error("confirmPassword")).toHaveText("Passwords do not match.");
  await page.screenshot({ path: "test-results/registration-rules.png", fullPage: true });

  // Submitting with errors sends nothing and moves focus to the first one.
  const registrations = countRequests(page, "/api/auth/register");
  await page.getByRole("button", { name: "Register" }).click();
  await expect(page.getByLabel("Username")).toBeFocused();
  expect(registrations.count).toBe(0);

  // All valid, but the name is taken: the server's 409 is shown.
  await page.getByLabel("Username").fill(taken.toUpperCase());
  await page.getByLabel("Email").fill(`${uniqueName("fresh")}@example.com`);
  await page.getByLabel("Full name").fill("Someone Else");
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Confirm password").fill(PASSWORD);
  await page.getByRole("button", { name: "Register" }).click();
  await expect(page.locator(".form-errors")).toContainText("The username is already taken.");
  await page.screenshot({ path: "test-results/registration-conflict.png", fullPage: true });
});

test("signed-out visitors are sent to login and come back via next", async ({ page, request }) => {
  const name = uniqueName("next");
  await registerViaApi(request, name);
  const redirect = await page.request.get("/protected", { maxRedirects: 0 });
  expect(redirect.status()).toBe(303);
  expect(redirect.headers()["location"]).toBe("/login?next=%2Fprotected");

  await page.goto("/protected");
  await expect(page).toHaveURL(/\/login\?next=%2Fprotected$/);
  await expect(page.locator("#login-notice")).toHaveText("Please sign in to continue.");
  await loginViaForm(page, name);
  await expect(page).toHaveURL(/\/protected$/);
  await expect(page.locator("#protected-message")).toContainText("protected resource");
  await page.screenshot({ path: "test-results/next-return.png", fullPage: true });
});

test("logout ends the session", async ({ page }) => {
  const name = uniqueName("logout");
  await registerViaForm(page, name);
  const revokes = countRequests(page, "/api/auth/revoke");
  await page.getByRole("button", { name: "Log out", exact: true }).click();
  await expect(page).toHaveURL(/\/login\?reason=logged-out$/);
  await expect(page.locator("#login-notice")).toHaveText("You have signed out.");
  expect(revokes.count).toBe(1);
  expect(await page.evaluate(() => localStorage.getItem("auth.tokens"))).toBeNull();
  await expect(page.locator("#signed-in-as")).toHaveCount(0);
  await page.goto("/profile");
  await expect(page).toHaveURL(/\/login\?next=%2Fprofile$/);
  await page.screenshot({ path: "test-results/logout.png", fullPage: true });
});

test("signing out in one tab signs out the others", async ({ context }) => {
  const first = await context.newPage();
  const name = uniqueName("tabs");
  await registerViaForm(first, name);
  const second = await context.newPage();
  await second.goto("/profile");
  await hydrated(second);
  await expect(second.locator("#profile-username")).toHaveText(name);

  await first.getByRole("button", { name: "Log out", exact: true }).click();
  await expect(second).toHaveURL(/\/login\?next=%2Fprofile&reason=signed-out$/);
  await expect(second.locator("#login-notice")).toHaveText("You signed out in another tab.");
  await second.screenshot({ path: "test-results/two-tab-logout.png", fullPage: true });
});

test("keyboard-only login", async ({ page, request }) => {
  const name = uniqueName("keys");
  await registerViaApi(request, name);
  await page.goto("/login");
  await hydrated(page);
  for (let i = 0; i < 15; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(() => document.activeElement?.id) === "username") break;
  }
  await expect(page.getByLabel("Username or email")).toBeFocused();
  await page.keyboard.type(name);
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Password", { exact: true })).toBeFocused();
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Show" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByLabel("Password", { exact: true })).toHaveAttribute("type", "text");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Log in" })).toBeFocused();
  await page.screenshot({ path: "test-results/keyboard-login.png", fullPage: true });
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.locator("#profile-username")).toHaveText(name);
});

test("the layout fits a 360 px phone", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  const name = uniqueName("phone");
  await registerViaForm(page, name);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBe(0);
  await page.screenshot({ path: "test-results/phone-profile.png", fullPage: true });
});
