import { test, expect } from "@playwright/test";
import {
  PASSWORD,
  hydrated,
  loginViaForm,
  mailedToken,
  registerViaApi,
  registerViaForm,
  uniqueName,
  watchConsole,
} from "./support";

// The account lifecycle in the browser: mails read from the server's outbox.

const NEW_PASSWORD = "a brand new secret phrase";

test("forgot → mail → reset → signed in with the new password", async ({ page, request }) => {
  const name = uniqueName("forgot");
  await registerViaApi(request, name);
  const errors = watchConsole(page);
  await page.goto("/login");
  await hydrated(page);
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await expect(page).toHaveURL(/\/forgot-password$/);
  await page.getByLabel("Email").fill(`${name}@example.com`);
  await page.getByRole("button", { name: "Send me a link" }).click();
  await expect(page.locator("#forgot-sent")).toContainText("If an account has this address");

  const token = await mailedToken(`${name}@example.com`, "reset-password");
  const referers: string[] = [];
  page.on("request", (r) => {
    const referer = r.headers()["referer"];
    if (referer) referers.push(referer);
  });
  await page.goto(`/reset-password?token=${token}`);
  await hydrated(page);
  // The token leaves the address bar and goes to no other request.
  await expect(page).toHaveURL(/\/reset-password$/);
  await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel("Confirm the new password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Set the new password" }).click();
  await expect(page).toHaveURL(/\/login\?reason=password-reset$/);
  await expect(page.locator("#login-notice")).toContainText("Sign in with the new one");
  for (const referer of referers) expect(referer).not.toContain(token);

  await loginViaForm(page, name, NEW_PASSWORD);
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.locator("#profile-username")).toHaveText(name);
  expect(errors).toEqual([]);
});

test("register → verify the address from the mailed link", async ({ page }) => {
  const name = uniqueName("verify");
  await registerViaForm(page, name);
  // Where a registration lands: the notice, and a new link on request.
  await hydrated(page);
  await expect(page.locator("#unverified")).toContainText("is not verified yet");
  await page.getByRole("button", { name: "Send again" }).click();
  await expect(page.locator("#profile-notice")).toHaveText("We have sent you a new link.");

  const token = await mailedToken(`${name}@example.com`, "verify-email");
  await page.goto(`/verify-email?token=${token}`);
  await hydrated(page);
  await expect(page).toHaveURL(/\/verify-email$/);
  await page.getByRole("button", { name: "Confirm my address" }).click();
  await expect(page.locator("#verify-done")).toHaveText("Your address is verified.");
  await page.getByRole("link", { name: "Go to your account" }).click();
  await expect(page.locator("#profile-section")).toBeVisible();
  await expect(page.locator("#unverified")).toHaveCount(0);
});

test("change the email address, confirmed from the new one", async ({ page, request }) => {
  const name = uniqueName("move");
  await registerViaApi(request, name);
  await page.goto("/login?next=%2Faccount");
  await loginViaForm(page, name);
  await expect(page).toHaveURL(/\/account$/);
  await hydrated(page);
  const moved = `${name}@elsewhere.example`;
  await page.getByLabel("New address").fill(moved);
  await page.locator("#email-password").fill(PASSWORD);
  await page.getByRole("button", { name: "Change the address" }).click();
  await expect(page.locator("#account-notice")).toContainText(`We have sent a link to ${moved}`);
  await expect(page.locator("#current-email")).toHaveText(`${name}@example.com`);

  const token = await mailedToken(moved, "verify-email");
  await page.goto(`/verify-email?token=${token}`);
  await hydrated(page);
  await page.getByRole("button", { name: "Confirm my address" }).click();
  await expect(page.locator("#verify-done")).toBeVisible();
  await page.goto("/account");
  await hydrated(page);
  await expect(page.locator("#current-email")).toHaveText(moved);
});

test("change the name and language, then delete the account", async ({ page, request }) => {
  const name = uniqueName("leave");
  await registerViaApi(request, name);
  await page.goto("/login?next=%2Faccount");
  await loginViaForm(page, name);
  await expect(page).toHaveURL(/\/account$/);
  await hydrated(page);
  await expect(page.locator("#main").getByLabel("Language")).toBeEnabled();
  await page.getByLabel("Full name").fill("Leaving Soon");
  await page.locator("#main").getByLabel("Language").selectOption("zh-TW");
  await page.getByRole("button", { name: "Save" }).click();
  // The page speaks the chosen language at once, and again after a reload.
  await expect(page.locator("#account-notice")).toHaveText("您的個人資料已儲存。");
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-TW");
  await page.reload();
  await hydrated(page);
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-TW");
  await expect(page.locator("#locale")).toHaveValue("zh-TW");
  await expect(page.locator("#fullName")).toHaveValue("Leaving Soon");
  // Back to English through the switcher of the top bar.
  await page.locator("#language-select").selectOption("en");
  await expect(page.getByLabel("Full name")).toHaveValue("Leaving Soon");

  // Not without the tick.
  await page.locator("#delete-password").fill(PASSWORD);
  await page.getByRole("button", { name: "Delete my account" }).click();
  await expect(page.locator("#delete-section .form-errors")).toContainText("Tick the box");
  await page.getByLabel("I understand that my account is deleted for good.").check();
  await page.getByRole("button", { name: "Delete my account" }).click();
  await expect(page).toHaveURL(/\/login\?reason=account-deleted$/);
  await expect(page.locator("#login-notice")).toHaveText("Your account has been deleted.");
  await loginViaForm(page, name);
  await expect(page.locator(".form-errors")).toContainText("Invalid username or password.");
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("a password is reset through the posted forms", async ({ page, request }) => {
    const name = uniqueName("nojsreset");
    await registerViaApi(request, name);
    await page.goto("/forgot-password");
    await page.getByLabel("Email").fill(`${name}@example.com`);
    await page.getByRole("button", { name: "Send me a link" }).click();
    await expect(page).toHaveURL(/\/forgot-password\?sent=1$/);
    await expect(page.locator("#forgot-sent")).toBeVisible();
    const token = await mailedToken(`${name}@example.com`, "reset-password");
    await page.goto(`/reset-password?token=${token}`);
    await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("Confirm the new password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Set the new password" }).click();
    await expect(page).toHaveURL(/\/login\?reason=password-reset$/);
    await page.getByLabel("Username or email").fill(name);
    await page.getByLabel("Password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page).toHaveURL(/\/profile$/);
  });
});
