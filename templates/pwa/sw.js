/* Peuplade's service worker (peuplade/pwa, docs/pwa.md).

   It keeps two things, and nothing else:
   - the app shell: the style sheets, the scripts every page loads, the icons and the
     offline page in each language, put aside when the worker is installed and served
     from there (a release changes VERSION, a new worker drops the old shell);
   - the feed's first page, the last time the member saw it, with the photos it shows:
     offline, the feed's address shows that page with its "Hors ligne — vu à 14 h 05".
   Any other page goes to the network only; offline, the offline page answers.
   Logging out (the POST to LOGOUT) drops the kept feed; the logout's answer also tells
   the browser to clear the site's storage (Clear-Site-Data), this worker's caches
   with it. Logging in (the POST to LOGIN: maybe someone else) drops it too, and so
   does any page answered with the header KEEP_HEADER: "forget" (every page shown to
   someone not logged in: a session that ended elsewhere, the welcome page). */
"use strict";

const VERSION = {{ version|tojson }};
const SHELL = "peuplade-shell-" + VERSION;
const FEED = "peuplade-feed";
const SHELL_URLS = {{ shell|tojson }};
const OFFLINE = {{ offline|tojson }};
const DEFAULT_LANGUAGE = {{ default_language|tojson }};
const FEED_PATH = {{ feed|tojson }};
const LOGOUT_PATH = {{ logout|tojson }};
const LOGIN_PATH = {{ login|tojson }};
const FORGET_VALUE = {{ forget_value|tojson }};
const STATIC_PREFIX = {{ static_prefix|tojson }};
const TIMEZONE = {{ timezone|tojson }};
const KEEP_HEADER = {{ keep_header|tojson }};
const KEEP_VALUE = {{ keep_value|tojson }};
const MAX_PHOTOS = 60;

// The language of the last page the member was given (its Content-Language header),
// for the offline page; until one is seen (the worker was just started), the phone's.
let language = null;

function offered(code) {
  return Object.prototype.hasOwnProperty.call(OFFLINE, code);
}

function offlineLanguage() {
  if (language) {
    return language;
  }
  for (const tag of self.navigator.languages || [self.navigator.language]) {
    const code = String(tag || "").slice(0, 2).toLowerCase();
    if (offered(code)) {
      return code;
    }
  }
  return DEFAULT_LANGUAGE;
}
const SHELL_PATHS = new Set(SHELL_URLS);

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL)
      // Without cookies: the same files for everyone, and no session looked up for them.
      .then((cache) => cache.addAll(
        SHELL_URLS.concat(Object.values(OFFLINE)).map((url) => new Request(url, { credentials: "omit" }))
      ))
      // No skipWaiting(): a new version takes over once no page of the old one is open
      // (the app closed and opened again), never under a page's feet mid-navigation.
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith("peuplade-shell-") && name !== SHELL)
          .map((name) => caches.delete(name))
      ))
  );
});

// Bumped by every forgetting: a page being kept when it happens is not put back.
let generation = 0;

function forgetFeed() {
  generation += 1;
  return caches.delete(FEED);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.method !== "GET") {
    if (url.pathname === LOGOUT_PATH || url.pathname === LOGIN_PATH) {
      event.waitUntil(forgetFeed());
    }
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(navigate(event, url));
  } else if (SHELL_PATHS.has(url.pathname)) {
    event.respondWith(
      caches.match(url.pathname, { cacheName: SHELL }).then((kept) => kept || fetch(request))
    );
  } else if (request.destination === "image" && !url.pathname.startsWith(STATIC_PREFIX)) {
    // A photo: from the network; offline, the copy kept with the feed, if it is one.
    event.respondWith(
      fetch(request).catch(() =>
        caches.match(url.pathname + url.search, { cacheName: FEED })
          .then((kept) => kept || Response.error())
      )
    );
  }
});

async function navigate(event, url) {
  const isFeed = url.pathname === FEED_PATH && url.search === "";
  let response;
  try {
    response = await fetch(event.request);
  } catch (offline) {
    return (isFeed && (await keptFeed())) || (await offlinePage());
  }
  const spoken = response.type === "basic" ? response.headers.get("Content-Language") : null;
  if (spoken && offered(spoken)) {
    language = spoken;
  }
  const asked = response.type === "basic" ? response.headers.get(KEEP_HEADER) : null;
  if (asked === FORGET_VALUE) {
    event.waitUntil(forgetFeed());
  } else if (isFeed && asked === KEEP_VALUE && response.ok) {
    event.waitUntil(keepFeed(response.clone()));
  }
  return response;
}

async function offlinePage() {
  return (await caches.match(OFFLINE[offlineLanguage()], { cacheName: SHELL })) || Response.error();
}

// The <img src="..."> of a page that are this site's photos (not its static files).
function photosOf(html) {
  const found = new Set();
  for (const match of html.matchAll(/<img\b[^>]*?\ssrc="([^"]+)"/g)) {
    const src = match[1].replace(/&amp;/g, "&");
    const url = new URL(src, self.location.href);
    if (url.origin === self.location.origin && !url.pathname.startsWith(STATIC_PREFIX)) {
      found.add(url.pathname + url.search);
    }
    if (found.size >= MAX_PHOTOS) {
      break;
    }
  }
  return found;
}

// A page rebuilt from a kept one: its old length no longer holds.
function rebuiltHeaders(headers) {
  const copy = new Headers(headers);
  copy.delete("content-length");
  return copy;
}

async function keepFeed(response) {
  const started = generation;
  const html = await response.text();
  const photos = photosOf(html);
  if (started !== generation) {
    return; // forgotten meanwhile (a logout in another tab): not put back
  }
  const cache = await caches.open(FEED);
  // The page replaces the one kept before; photos it no longer shows go.
  for (const old of await cache.keys()) {
    const path = new URL(old.url).pathname + new URL(old.url).search;
    if (path !== FEED_PATH && !photos.has(path)) {
      await cache.delete(old);
    }
  }
  await cache.put(FEED_PATH, new Response(html, { status: 200, headers: rebuiltHeaders(response.headers) }));
  for (const path of photos) {
    if (started !== generation) {
      return;
    }
    if (!(await cache.match(path))) {
      try {
        const photo = await fetch(path, { credentials: "same-origin" });
        if (photo.ok && started === generation) {
          await cache.put(path, photo);
        }
      } catch (offline) {
        // Kept next time.
      }
    }
  }
}

// Today in the site's time zone, as the server writes a day in data-offline-day
// ("2026-12-07"), whatever the phone's own zone.
function siteDay(date) {
  try {
    const parts = {};
    const format = { timeZone: TIMEZONE, year: "numeric", month: "2-digit", day: "2-digit" };
    for (const part of new Intl.DateTimeFormat("en", format).formatToParts(date)) {
      parts[part.type] = part.value;
    }
    return parts.year + "-" + parts.month + "-" + parts.day;
  } catch (unknownZone) {
    const pad = (n) => String(n).padStart(2, "0");
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate());
  }
}

async function keptFeed() {
  if (!(await caches.has(FEED))) {
    return null;
  }
  const kept = await caches.match(FEED_PATH, { cacheName: FEED });
  if (!kept) {
    return null;
  }
  // The note the page carries, hidden, is shown: "vu à 14 h 05" the same day,
  // "vu le 5 décembre à 14 h 05" later. The markers hold quotes, which the page's own
  // texts cannot (the server escapes them): only the note can match.
  let html = await kept.text();
  const seen = /data-offline-day="(\d{4}-\d{2}-\d{2})"/.exec(html);
  const when = seen && seen[1] === siteDay(new Date()) ? "today" : "earlier";
  html = html.replace('data-offline="note" hidden', 'data-offline="note"');
  html = html.replace('data-offline="' + when + '" hidden', 'data-offline="' + when + '"');
  return new Response(html, { status: 200, headers: rebuiltHeaders(kept.headers) });
}
