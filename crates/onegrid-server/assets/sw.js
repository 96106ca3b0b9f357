// onegrid service worker: keeps the grid worker's and the resident's pages opening without a
// network. Pages are fetched from the network first and kept; when the network is down the
// kept copy is shown. Assets come from the cache and are refreshed behind it. The API is never
// cached: reports wait in the page's IndexedDB queue (app.js), not here.
"use strict";

const CACHE = "onegrid-v2";
const ASSETS = ["/assets/ui/app.css", "/assets/ui/app.js", "/assets/ui/htmx.min.js", "/assets/ui/manifest.json"];
const PAGES = ["/ui/worker", "/ui/worker/report", "/portal/report", "/portal"];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(ASSETS);
    // Pages only when they answer themselves (not a redirect to sign in).
    await Promise.all(PAGES.map(async (url) => {
      try {
        const response = await fetch(url, { credentials: "same-origin" });
        if (response.ok && !response.redirected) await cache.put(url, response);
      } catch (_) { /* offline at install: kept on the next visit */ }
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (url.pathname.startsWith("/assets/ui/")) {
    event.respondWith((async () => {
      const cache = await caches.open(CACHE);
      const kept = await cache.match(request);
      const fresh = fetch(request).then((response) => {
        if (response.ok) cache.put(request, response.clone());
        return response;
      }).catch(() => kept);
      return kept || fresh;
    })());
    return;
  }
  if (request.mode === "navigate" && (url.pathname.startsWith("/ui/worker") || url.pathname.startsWith("/portal"))) {
    event.respondWith((async () => {
      const cache = await caches.open(CACHE);
      try {
        const response = await fetch(request);
        if (response.ok && !response.redirected) cache.put(url.pathname, response.clone());
        return response;
      } catch (_) {
        const kept = await cache.match(url.pathname);
        return kept || new Response(
          "<!doctype html><meta charset=utf-8><title>离线</title><p>网络不通，此页尚未保存在本机。",
          { headers: { "Content-Type": "text/html; charset=utf-8" } });
      }
    })());
  }
});
