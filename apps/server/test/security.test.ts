import { afterEach, describe, expect, test } from "vitest";
import { call, counts, type TestApp, testApp } from "./helpers.ts";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const TOKEN = "s3cret-token-for-tests";

function projectBody(app: TestApp) {
  return { name: "p", directory: app.box.projectDir };
}

describe("Origin and Sec-Fetch-Site on mutations", () => {
  test("a cross-origin Origin is a 403 FORBIDDEN_ORIGIN and nothing is written", async () => {
    t = await testApp();
    for (const origin of ["http://evil.example", "null", "http://127.0.0.1:9999", "file://"]) {
      const res = await call(t.app, "http://127.0.0.1:4317/api/projects", {
        method: "POST",
        body: projectBody(t),
        headers: { origin },
      });
      expect(res.status, origin).toBe(403);
      expect(res.json.error.code).toBe("FORBIDDEN_ORIGIN");
    }
    expect((await counts(t.database)).projects).toBe(0);
  });

  test("Sec-Fetch-Site: cross-site is refused even without Origin", async () => {
    t = await testApp();
    const res = await call(t.app, "http://127.0.0.1:4317/api/projects", {
      method: "POST",
      body: projectBody(t),
      headers: { "sec-fetch-site": "cross-site" },
    });
    expect(res.status).toBe(403);
    expect((await counts(t.database)).projects).toBe(0);
  });

  test("same origin, the vite dev origin and no Origin (curl) are accepted", async () => {
    t = await testApp();
    const cases: Array<Record<string, string>> = [
      { origin: "http://127.0.0.1:4317" },
      { origin: "http://localhost:5173" },
      { origin: "http://127.0.0.1:5173" },
      {},
      { "sec-fetch-site": "same-origin", origin: "http://127.0.0.1:4317" },
    ];
    for (const headers of cases) {
      const res = await call(t.app, "http://127.0.0.1:4317/api/projects", {
        method: "POST",
        body: projectBody(t),
        headers,
      });
      expect(res.status, JSON.stringify(headers)).toBe(201);
    }
  });

  test("reads are not subject to the Origin check", async () => {
    t = await testApp();
    const res = await call(t.app, "http://127.0.0.1:4317/api/projects", {
      headers: { origin: "http://evil.example" },
    });
    expect(res.status).toBe(200);
  });

  test("tRPC mutations are guarded too", async () => {
    t = await testApp();
    const res = await call(t.app, "http://127.0.0.1:4317/trpc/projects.create", {
      method: "POST",
      body: projectBody(t),
      headers: { origin: "http://evil.example" },
    });
    expect(res.status).toBe(403);
    // in tRPC's error shape, so a tRPC client reads data.code
    expect(res.json.error).toMatchObject({
      code: -32003,
      data: { code: "FORBIDDEN", httpStatus: 403, reason: "FORBIDDEN_ORIGIN" },
    });
    expect((await counts(t.database)).projects).toBe(0);
  });
});

describe("Host header (DNS rebinding)", () => {
  test("a foreign Host is a 403 on reads and writes", async () => {
    t = await testApp();
    const read = await call(t.app, "http://rebind.evil.example:4317/api/projects");
    expect(read.status).toBe(403);
    expect(read.json.error.code).toBe("FORBIDDEN_HOST");
    const write = await call(t.app, "http://rebind.evil.example:4317/api/projects", {
      method: "POST",
      body: projectBody(t),
    });
    expect(write.status).toBe(403);
    expect((await counts(t.database)).projects).toBe(0);
  });

  test("loopback names are accepted", async () => {
    t = await testApp();
    for (const host of ["127.0.0.1:4317", "localhost:4317", "[::1]:4317", "127.0.0.2"]) {
      const res = await call(t.app, `http://${host}/api/health`);
      expect(res.status, host).toBe(200);
    }
  });

  test("with a non-loopback HOST (and token), that host is accepted, others are not", async () => {
    t = await testApp({ HOST: "192.168.77.10", AUTH_TOKEN: TOKEN });
    const auth = { authorization: `Bearer ${TOKEN}` };
    const ok = await call(t.app, "http://192.168.77.10:4317/api/projects", { headers: auth });
    expect(ok.status).toBe(200);
    const other = await call(t.app, "http://evil.example:4317/api/projects", { headers: auth });
    expect(other.status).toBe(403);
  });
});

describe("AUTH_TOKEN", () => {
  test("without a token configured, the API is open on loopback", async () => {
    t = await testApp();
    expect((await call(t.app, "/api/projects")).status).toBe(200);
  });

  test("/api and /trpc need the bearer token; /api/health stays open", async () => {
    t = await testApp({ AUTH_TOKEN: TOKEN });
    expect((await call(t.app, "/api/health")).status).toBe(200);

    const none = await call(t.app, "/api/projects");
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe("UNAUTHORIZED");
    const trpcNone = await call(t.app, "/trpc/projects.list");
    expect(trpcNone.status).toBe(401);
    expect(trpcNone.json.error.data).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
    const wrong = await call(t.app, "/api/projects", {
      headers: { authorization: "Bearer wrong-token-value" },
    });
    expect(wrong.status).toBe(401);
    const post = await call(t.app, "/api/projects", { method: "POST", body: projectBody(t) });
    expect(post.status).toBe(401);
    expect((await counts(t.database)).projects).toBe(0);

    const ok = await call(t.app, "/api/projects", {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(ok.status).toBe(200);
    const trpc = await call(t.app, "/trpc/projects.list", {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(trpc.status).toBe(200);
  });

  test("the login page sets a cookie that authenticates later requests", async () => {
    t = await testApp({ AUTH_TOKEN: TOKEN });
    const page = await t.app.request("/login");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('name="token"');

    const wrong = await t.app.request("/login", {
      method: "POST",
      body: new URLSearchParams({ token: "not-the-token" }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();

    const login = await t.app.request("/login", {
      method: "POST",
      body: new URLSearchParams({ token: TOKEN }),
    });
    expect(login.status).toBe(303);
    const cookie = login.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^glm_token=/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);

    const pair = cookie.split(";")[0] ?? "";
    const res = await call(t.app, "/api/projects", { headers: { cookie: pair } });
    expect(res.status).toBe(200);
  });

  test("pages redirect to /login without a token", async () => {
    t = await testApp({ AUTH_TOKEN: TOKEN });
    const res = await t.app.request("/projects/123");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/login");
  });
});
