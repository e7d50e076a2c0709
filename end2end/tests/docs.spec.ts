import { test, expect } from "@playwright/test";
import { PASSWORD, registerViaApi, uniqueName, watchConsole } from "./support";

test("Swagger UI documents the API and calls it with an authorized Bearer token", async ({ page, request }) => {
  const errors = watchConsole(page);
  const username = uniqueName("docs");
  await registerViaApi(request, username);
  const login = await request.post("/api/auth/login", { data: { username, password: PASSWORD } });
  const token: string = (await login.json()).data.accessToken;

  await page.goto("/docs/");
  await expect(page.locator(".swagger-ui .info .title")).toContainText("Auth API");
  await expect(page.locator("#operations-auth-login")).toBeVisible();

  await page.getByRole("button", { name: "Authorize" }).first().click();
  const dialog = page.locator(".modal-ux");
  await dialog.locator("input").first().fill(token);
  await dialog.getByRole("button", { name: "Apply credentials" }).click();
  await dialog.getByRole("button", { name: "Close" }).first().click();

  const me = page.locator("#operations-auth-me");
  await me.locator(".opblock-summary").click();
  await me.getByRole("button", { name: "Execute" }).click();
  const live = me.locator(".live-responses-table");
  await expect(live.locator("tr.response td.response-col_status").first()).toHaveText("200");
  await expect(live.locator("tr.response td.response-col_description").first()).toContainText(username);
  await page.screenshot({ path: "test-results/docs.png", fullPage: false });
  expect(errors).toEqual([]);
});
