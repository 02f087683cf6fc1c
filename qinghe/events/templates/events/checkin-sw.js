// The check-in page's service worker (served by qinghe.events.views.checkin_service_worker,
// scope /events/). It only touches the staff check-in pages and the static files they load:
// network first, and the copy the page put in the cache when the network is down, so a door
// phone that loses the venue's network can still open the check-in page. The page itself
// stores what it cached (static/js/events-checkin-offline.js); nothing else under /events/ is
// cached, and no request other than GET is handled.
"use strict";
var CACHE = "qinghe-checkin-v1";
var PAGE = /^\/events\/\d+\/checkin\/$/;

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var isPage = PAGE.test(url.pathname);
  if (!isPage && url.pathname.indexOf("/static/") !== 0) return;
  event.respondWith(
    fetch(request).catch(function () {
      return caches.open(CACHE).then(function (cache) {
        return cache.match(request, { ignoreSearch: isPage }).then(function (hit) {
          return hit || Response.error();
        });
      });
    })
  );
});
