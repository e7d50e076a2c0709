import { expect, type APIRequestContext, type Page } from "@playwright/test";

/** Collects console errors and uncaught exceptions of a page. */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  return errors;
}

/** A username no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

export const PASSWORD = "correct horse battery";

/** Waits until the WASM app has hydrated the page (frontend sets the marker). */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/** Creates an account through the API, outside the browser's session. */
export async function registerViaApi(request: APIRequestContext, username: string): Promise<void> {
  const response = await request.post("/api/auth/register", {
    data: {
      username,
      email: `${username}@example.com`,
      password: PASSWORD,
      confirmPassword: PASSWORD,
      fullName: `${username} Example`,
    },
  });
  expect(response.status()).toBe(201);
}

/** Registers through the form and waits for the profile page. */
export async function registerViaForm(page: Page, username: string): Promise<void> {
  await page.goto("/register");
  await hydrated(page);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Email").fill(`${username}@example.com`);
  await page.getByLabel("Full name").fill(`${username} Example`);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Confirm password").fill(PASSWORD);
  await page.getByRole("button", { name: "Register" }).click();
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.locator("#profile-username")).toHaveText(username);
}

/** Signs in through the form. */
export async function loginViaForm(page: Page, username: string, password = PASSWORD): Promise<void> {
  await hydrated(page);
  await page.getByLabel("Username or email").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

/** Counts the browser's requests to a path. */
export function countRequests(page: Page, path: string): { count: number } {
  const counter = { count: 0 };
  page.on("request", (r) => {
    if (new URL(r.url()).pathname === path) counter.count += 1;
  });
  return counter;
}

/**
 * The token of the newest mail to `address` whose link goes to `page`
 * (`verify-email` or `reset-password`). The end-to-end server has no SMTP
 * relay: it writes each mail as an .eml file into its outbox, E2E_OUTBOX.
 */
export async function mailedToken(address: string, page: "verify-email" | "reset-password"): Promise<string> {
  const fs = await import("node:fs");
  const path = await import("node:path");
  const outbox = process.env.E2E_OUTBOX;
  if (!outbox) throw new Error("E2E_OUTBOX is not set: run the tests through scripts/test");
  const link = new RegExp(`/${page}\\?token=([A-Za-z0-9_-]+)`);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const files = fs.existsSync(outbox) ? fs.readdirSync(outbox).filter((f) => f.endsWith(".eml")) : [];
    // Named by the time they were written: newest first.
    for (const file of files.sort().reverse()) {
      // Undo quoted-printable soft line breaks and escapes.
      const mail = fs
        .readFileSync(path.join(outbox, file), "utf8")
        .replace(/=\r?\n/g, "")
        .replace(/=3D/g, "=");
      const to = mail.match(/^To: (.*)$/im)?.[1] ?? "";
      const token = mail.match(link)?.[1];
      if (token && to.toLowerCase().includes(address.toLowerCase())) return token;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no mail to ${address} with a link to /${page}`);
}
