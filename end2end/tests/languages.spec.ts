import { expect, test, type Page } from "@playwright/test";
import { hydrated, PASSWORD, uniqueName, watchConsole } from "./support";

/** Where a page shows data (names, addresses, devices), not its own words. */
const DATA = "td.ua, .who strong, .session strong, #unverified strong, #profile-username, #profile-email, #current-email, #protected-answer p.muted, #protected-message, select, script";

/** The admin console's data: the users' names and addresses; the audit
 * log's users and details (stored as the server wrote them). */
const ADMIN_DATA: Record<string, string> = {
  "/admin/users": `${DATA}, #users-table tbody td:nth-child(-n+3)`,
  "/admin/audit": `${DATA}, tbody td:nth-child(3), tbody td:nth-child(6)`,
};

/** Words of English the page itself wrote, beyond names that read the same everywhere. */
async function englishLeft(page: Page, data = DATA): Promise<string[]> {
  const text = await page.evaluate((data) => {
    const body = document.body.cloneNode(true) as HTMLElement;
    body.querySelectorAll(data).forEach((e) => e.remove());
    document.documentElement.appendChild(body);
    const shown = body.innerText;
    body.remove();
    return shown;
  }, data);
  const words = text.match(/[A-Za-z]{3,}/g) ?? [];
  return words.filter((w) => !["Auth", "API", "JSON", "Rust"].includes(w));
}

for (const [locale, heading, register] of [
  ["zh-TW", "登入", "註冊"],
  ["zh-CN", "登录", "注册"],
] as const) {
  test.describe(`in ${locale}`, () => {
    test.use({ locale });

    test("the server's HTML is in the language, and hydration keeps it", async ({ page }) => {
      const errors = watchConsole(page);
      const response = await page.goto("/login");
      const html = await response!.text();
      expect(html).toContain(`<html lang="${locale}"`);
      // (Leptos ends a text with a marker comment: `<h1>登入<!></h1>`.)
      expect(html).toContain(`<h1>${heading}<`);
      await hydrated(page);
      await expect(page.locator("h1")).toHaveText(heading);
      await expect(page.getByRole("navigation").getByRole("link", { name: register })).toBeVisible();
      expect(await englishLeft(page)).toEqual([]);
      expect(errors).toEqual([]);
    });

    test("every page a visitor can reach is free of English", async ({ page }) => {
      for (const path of ["/", "/login", "/register", "/forgot-password", "/no-such-page"]) {
        await page.goto(path);
        await hydrated(page);
        expect(await englishLeft(page), path).toEqual([]);
      }
    });

    test("the API answers a wrong password in the language", async ({ page }) => {
      await page.goto("/login");
      await hydrated(page);
      await page.locator("#username").fill(uniqueName("nobody"));
      await page.locator("#password").fill("not the password");
      await page.locator("form button[type=submit]").last().click();
      const expected = locale === "zh-TW" ? "使用者名稱或密碼錯誤。" : "用户名或密码错误。";
      await expect(page.locator(".form-errors")).toContainText(expected);
    });
  });
}

test("the switcher changes the language without a reload and keeps it in a cookie", async ({ page, context }) => {
  await page.goto("/login");
  await hydrated(page);
  await expect(page.locator("h1")).toHaveText("Log in");
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
  await page.locator("#language-select").selectOption("zh-TW");
  await expect(page.locator("h1")).toHaveText("登入");
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-TW");
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
  const cookie = (await context.cookies()).find((c) => c.name === "lang");
  expect(cookie?.value).toBe("zh-TW");
  await page.reload();
  await expect(page.locator("h1")).toHaveText("登入");
  await page.locator("#language-select").selectOption("en");
  await expect(page.locator("h1")).toHaveText("Log in");
});

test("the account's language wins after sign-in, and a switch is saved to it", async ({ page, request }) => {
  const name = uniqueName("lang");
  // Registered through the API in Simplified Chinese: the account's language.
  const registered = await request.post("/api/auth/register", {
    headers: { "accept-language": "zh-CN" },
    data: { username: name, email: `${name}@example.com`, password: PASSWORD, confirmPassword: PASSWORD, fullName: "Lang Tester" },
  });
  expect(registered.status()).toBe(201);
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Username or email").fill(name);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.locator("h1")).toHaveText("个人资料");
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  // Switched while signed in: the account keeps it, whatever the cookie says.
  await hydrated(page);
  await page.locator("#language-select").selectOption("zh-TW");
  await expect(page.locator("h1")).toHaveText("個人資料");
  await expect
    .poll(async () => {
      const token = await page.evaluate(() => JSON.parse(localStorage.getItem("auth.tokens") ?? "{}").accessToken);
      const answer = await request.get("/api/account", { headers: { authorization: `Bearer ${token}` } });
      return (await answer.json()).data?.locale;
    })
    .toBe("zh-TW");
});

test.describe("before the app has loaded", () => {
  test.use({ javaScriptEnabled: false });

  test("the switcher is a form the server answers", async ({ page }) => {
    await page.goto("/register");
    await page.locator("#language-select").selectOption("zh-CN");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect(page).toHaveURL(/\/register$/);
    await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
    await expect(page.locator("h1")).toHaveText("创建账号");
  });
});

test.describe("on a 360 px phone in zh-TW", () => {
  test.use({ locale: "zh-TW", viewport: { width: 360, height: 740 } });

  test("every page fits", async ({ page }) => {
    const name = uniqueName("tw");
    await page.goto("/register");
    await hydrated(page);
    await page.locator("#username").fill(name);
    await page.locator("#email").fill(`${name}@example.com`);
    await page.locator("#fullName").fill("臺灣 測試者");
    await page.locator("#password").fill(PASSWORD);
    await page.locator("#confirmPassword").fill(PASSWORD);
    await page.locator("form button[type=submit]").last().click();
    await expect(page).toHaveURL(/\/profile$/);
    for (const path of ["/profile", "/account", "/protected", "/login", "/register", "/forgot-password"]) {
      await page.goto(path);
      await hydrated(page);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, path).toBe(0);
      expect(await englishLeft(page), path).toEqual([]);
      await page.screenshot({ path: `test-results/zh-TW-360${path.replace(/\//g, "-")}.png`, fullPage: true });
    }
  });
});

test.describe("the admin console in zh-TW", () => {
  test.use({ locale: "zh-TW", viewport: { width: 360, height: 740 } });

  test("speaks the admin's language, dates included", async ({ page, request }) => {
    // An admin whose account is in Traditional Chinese, promoted by the
    // first admin (made by scripts/test, in English).
    const name = uniqueName("twadmin");
    const registered = await request.post("/api/auth/register", {
      headers: { "accept-language": "zh-TW" },
      data: { username: name, email: `${name}@example.com`, password: PASSWORD, confirmPassword: PASSWORD, fullName: "管理 測試者" },
    });
    expect(registered.status()).toBe(201);
    const id = (await registered.json()).data.user.id;
    const admin = await request.post("/api/auth/login", {
      data: { username: process.env.E2E_ADMIN_USER, password: process.env.E2E_ADMIN_PASSWORD },
    });
    const token = (await admin.json()).data.accessToken;
    const promoted = await request.patch(`/api/admin/users/${id}/role`, {
      headers: { authorization: `Bearer ${token}` },
      data: { role: "Admin" },
    });
    expect(promoted.status()).toBe(200);

    await page.goto("/login");
    await hydrated(page);
    await page.locator("#username").fill(name);
    await page.locator("#password").fill(PASSWORD);
    await page.locator("form button[type=submit]").last().click();
    await expect(page).toHaveURL(/\/profile$/);
    for (const path of ["/admin/users", "/admin/audit"]) {
      await page.goto(path);
      await hydrated(page);
      await expect(page.locator("tbody tr").first().locator("time")).toBeVisible();
      // The times as Taiwan writes them (年/月/日, 上午/下午), in the browser's zone.
      await expect(page.locator("tbody time").first()).toHaveText(/\d{4}年\d{1,2}月\d{1,2}日/);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, path).toBe(0);
      expect(await englishLeft(page, ADMIN_DATA[path]), path).toEqual([]);
      await page.screenshot({ path: `test-results/zh-TW-360${path.replace(/\//g, "-")}.png`, fullPage: true });
    }
  });
});
