import { test, expect, type Page } from "@playwright/test";
import { PASSWORD, hydrated, loginViaForm, registerViaApi, registerViaForm, uniqueName } from "./support";

// scripts/test creates this admin with `server admin create` before the server starts.
const ADMIN = process.env.E2E_ADMIN_USER ?? "";
const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD ?? "";

test.beforeAll(() => {
  expect(ADMIN, "E2E_ADMIN_USER names the admin made by scripts/test").not.toBe("");
});

async function loginAsAdmin(page: Page): Promise<void> {
  await page.goto("/login");
  await loginViaForm(page, ADMIN, ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/profile$/);
}

test("an admin manages users from the console, confirming each change", async ({ page, request }) => {
  const name = uniqueName("managed");
  await registerViaApi(request, name);
  await loginAsAdmin(page);
  await page.getByRole("link", { name: "Admin" }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await page.getByLabel("Search username or email").fill(name);
  await page.getByRole("button", { name: "Search" }).click();
  const row = page.locator(`tr[data-username="${name}"]`);
  await expect(row).toBeVisible();
  await expect(page.locator("#pager-status")).toHaveText("Page 1 of 1 · 1 in all");
  await expect(page.getByRole("button", { name: "Previous", exact: true })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Next", exact: true })).toBeDisabled();

  // Dismissed: nothing changes, and nothing is sent.
  let patches = 0;
  page.on("request", (r) => {
    if (r.method() === "PATCH") patches += 1;
  });
  const dismissed = new Promise<void>((resolve) =>
    page.once("dialog", async (d) => {
      await d.dismiss();
      resolve();
    }),
  );
  await row.getByRole("button", { name: "Make admin" }).click();
  await dismissed;
  await page.waitForTimeout(500);
  expect(patches).toBe(0);
  await expect(row.locator(".role")).toHaveText("User");

  page.once("dialog", (d) => {
    expect(d.message()).toBe(`Change the role of ${name} to Admin?`);
    d.accept();
  });
  await row.getByRole("button", { name: "Make admin" }).click();
  await expect(row.locator(".role")).toHaveText("Admin");
  expect(patches).toBe(1);

  page.once("dialog", (d) => d.accept());
  await row.getByRole("button", { name: "Deactivate" }).click();
  await expect(row.locator(".active")).toHaveText("Deactivated");
  await expect(page.locator("#admin-outcome")).toHaveText("User deactivated.");
  await page.screenshot({ path: "test-results/admin-users.png", fullPage: true });

  // The deactivated user can no longer sign in.
  const login = await request.post("/api/auth/login", { data: { username: name, password: PASSWORD } });
  expect(login.status()).toBe(401);
});

test("the signed-in pages' code is loaded when such a page is first shown", async ({ page }) => {
  const wasm: string[] = [];
  page.on("request", (r) => {
    const path = new URL(r.url()).pathname;
    if (path.endsWith(".wasm") && !wasm.includes(path)) wasm.push(path);
  });
  await page.goto("/login");
  await hydrated(page);
  expect(wasm).toEqual([expect.stringMatching(/^\/pkg\/auth\.[A-Za-z0-9_-]+\.wasm$/)]);

  await loginViaForm(page, ADMIN, ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.locator("#profile-username")).toHaveText(ADMIN);
  expect(wasm.some((p) => p.includes("_profile_route_"))).toBe(true);
  expect(wasm.some((p) => p.includes("_admin_"))).toBe(false);

  await page.getByRole("link", { name: "Admin" }).click();
  await expect(page.locator("h1")).toHaveText("Users");
  expect(wasm.some((p) => p.includes("_admin_users_route_"))).toBe(true);
  for (const path of wasm.slice(1)) {
    expect(path).toMatch(/^\/pkg\/(split|chunk)_[A-Za-z0-9_.-]+\.wasm$/);
    const response = await page.request.get(path);
    expect(response.status()).toBe(200);
    expect(response.headers()["cache-control"]).toContain("immutable");
  }
});

test("the audit log filters by event, in the viewer's time zone", async ({ page, request }) => {
  const name = uniqueName("audited");
  await registerViaApi(request, name);
  const failed = await request.post("/api/auth/login", { data: { username: name, password: "wrong password" } });
  expect(failed.status()).toBe(401);
  await loginAsAdmin(page);
  await page.goto("/admin/audit");
  await hydrated(page);
  await page.getByLabel("Event").selectOption("login_failed");
  await page.getByRole("button", { name: "Apply filters" }).click();
  const kinds = page.locator("#audit-table td.kind");
  // A readable name, with the wire value kept in data-kind.
  await expect(kinds.first()).toHaveText("Sign-in failed");
  expect(new Set(await kinds.evaluateAll((cells) => cells.map((c) => c.getAttribute("data-kind"))))).toEqual(
    new Set(["login_failed"]),
  );
  // Shown in the browser's locale, with the machine time kept in the datetime attribute.
  const time = page.locator("#audit-table time").first();
  expect(await time.getAttribute("datetime")).toMatch(/Z$/);
  expect(await time.textContent()).not.toMatch(/Z$/);
  await page.screenshot({ path: "test-results/admin-audit.png", fullPage: true });
});

test("a User is refused every admin page and endpoint", async ({ page }) => {
  const name = uniqueName("nosy");
  await registerViaForm(page, name);
  await expect(page.getByRole("link", { name: "Admin" })).toHaveCount(0);
  for (const path of ["/admin/users", "/admin/audit"]) {
    const response = await page.goto(path);
    expect(response!.status(), path).toBe(403);
    await expect(page.locator("#forbidden h1")).toHaveText("Admins only");
  }
  await page.screenshot({ path: "test-results/admin-forbidden.png", fullPage: true });
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem("auth.tokens")!).accessToken as string);
  const headers = { authorization: `Bearer ${token}` };
  const calls: [string, string, object?][] = [
    ["GET", "/api/admin/users"],
    ["PATCH", "/api/admin/users/1/role", { role: "Admin" }],
    ["PATCH", "/api/admin/users/1/active", { isActive: false }],
    ["POST", "/api/admin/users/1/revoke-sessions"],
    ["GET", "/api/admin/audit"],
  ];
  for (const [method, path, data] of calls) {
    const response = await page.request.fetch(path, { method, headers, data });
    expect(response.status(), `${method} ${path}`).toBe(403);
    expect(response.headers()["www-authenticate"]).toBe('Bearer error="insufficient_scope"');
  }
});

test("the profile lists the user's sessions and ends them", async ({ page, playwright, baseURL }) => {
  const name = uniqueName("sessions");
  await registerViaForm(page, name);
  const phone = await playwright.request.newContext({ baseURL, userAgent: "OtherDevice/1.0" });
  const login = await phone.post("/api/auth/login", { data: { username: name, password: PASSWORD } });
  expect(login.status()).toBe(200);
  const phoneToken = (await login.json()).data.accessToken as string;

  await page.reload();
  await hydrated(page);
  const sessions = page.locator("#sessions li.session");
  await expect(sessions).toHaveCount(2);
  await expect(page.locator('#sessions li[data-current="true"]')).toContainText("This session");
  const other = page.locator('#sessions li[data-current="false"]');
  await expect(other).toContainText("OtherDevice/1.0");
  await page.screenshot({ path: "test-results/sessions.png", fullPage: true });
  await other.getByRole("button", { name: "End" }).click();
  await expect(sessions).toHaveCount(1);
  const me = await phone.get("/api/auth/me", { headers: { authorization: `Bearer ${phoneToken}` } });
  expect(me.status()).toBe(401);

  await page.getByRole("button", { name: "Log out everywhere" }).click();
  await expect(page).toHaveURL(/\/login\?reason=logged-out$/);
  await phone.dispose();
});
