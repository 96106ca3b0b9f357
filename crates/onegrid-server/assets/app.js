// onegrid workspaces: what the pages need a browser for. Sign-in through the session API,
// photo uploads, the position (phone or a click on the map), patrol tracks, and the offline
// report queue: a report is kept in IndexedDB first, then sent with its Idempotency-Key; when
// the network is down it stays there and is sent again when the network comes back. Sending
// twice is harmless: the server answers a repeated key with the first case.
"use strict";

(function () {
  const $ = (selector, root) => (root || document).querySelector(selector);
  const csrf = () => {
    const meta = $('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  };
  const headers = (extra) => {
    const all = Object.assign({}, extra || {});
    if (csrf()) all["X-CSRF-Token"] = csrf();
    return all;
  };
  async function errorMessage(response) {
    try {
      const body = await response.json();
      return (body && body.error && body.error.message) || ("HTTP " + response.status);
    } catch (_) {
      return "HTTP " + response.status;
    }
  }
  function showError(id, message) {
    const node = document.getElementById(id);
    if (!node) return;
    node.textContent = message || "";
    node.hidden = !message;
    const field = node.parentElement && node.parentElement.querySelector("input, textarea, select");
    if (field && id !== "err-form") field.setAttribute("aria-invalid", message ? "true" : "false");
  }
  function clearErrors(form) {
    form.querySelectorAll(".field-error, .form-error").forEach((n) => { n.hidden = true; n.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach((n) => n.setAttribute("aria-invalid", "false"));
  }

  // --- Sign-in -----------------------------------------------------------------------------
  function setupSignIn() {
    const form = document.getElementById("signin-form");
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const login = form.login.value.trim();
      const password = form.password.value;
      const totp = form.totp.value.trim();
      let bad = false;
      if (!login) { showError("err-login", "请输入账号"); bad = true; }
      if (!password) { showError("err-password", "请输入密码"); bad = true; }
      if (totp && !/^[0-9]{6}$/.test(totp)) { showError("err-totp", "动态验证码是 6 位数字"); bad = true; }
      if (bad) return;
      const body = { login, password };
      if (totp) body.totp = totp;
      let response;
      try {
        response = await fetch("/api/v1/session", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
        });
      } catch (_) {
        showError("err-form", "网络不通，请稍后再试");
        return;
      }
      if (response.ok) {
        window.location.assign(form.dataset.next || "/ui");
        return;
      }
      const message = await errorMessage(response);
      if (/动态|TOTP/i.test(message)) showError("err-totp", message);
      else if (response.status === 401) showError("err-password", message);
      else if (response.status === 423) showError("err-form", "账户已锁定：" + message);
      else if (response.status === 429) showError("err-form", "尝试次数过多，请稍后再试");
      else showError("err-form", message);
    });
  }

  // --- Attachments ---------------------------------------------------------------------------
  async function upload(file) {
    const response = await fetch("/api/v1/attachments", {
      method: "POST", credentials: "same-origin",
      headers: headers({ "Content-Type": file.type || "application/octet-stream" }), body: file,
    });
    if (!response.ok) throw new Error(await errorMessage(response));
    return (await response.json()).hash;
  }
  function thumbnail(container, blob) {
    if (!container || !blob) return;
    const img = document.createElement("img");
    img.alt = "已选照片";
    img.src = URL.createObjectURL(blob);
    container.appendChild(img);
  }
  document.addEventListener("change", async (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file") return;
    if (input.dataset.uploadInto) {
      const hidden = document.getElementById(input.dataset.uploadInto);
      const thumbs = document.querySelector('[data-thumbs-for="' + input.dataset.uploadInto + '"]');
      const submit = input.form && input.form.querySelector('button[type="submit"]');
      if (submit) submit.disabled = true;
      try {
        for (const file of input.files) {
          const hash = await upload(file);
          hidden.value = hidden.value ? hidden.value + "," + hash : hash;
          thumbnail(thumbs, file);
        }
      } catch (error) {
        alert("照片上传失败：" + error.message);
      } finally {
        if (submit) submit.disabled = false;
      }
    }
    if (input.dataset.readInto) {
      const target = document.getElementById(input.dataset.readInto);
      if (target && input.files[0]) target.value = await input.files[0].text();
    }
    if (input.id === "photo" && input.closest("form[data-report]")) {
      const preview = document.getElementById("photo-preview");
      if (preview) { preview.innerHTML = ""; thumbnail(preview, input.files[0]); }
    }
  });

  // --- Position: the phone, or a click on the map -------------------------------------------
  async function describePlace(lon, lat) {
    const text = document.getElementById("position-text");
    if (!text) return;
    text.textContent = "经度 " + lon.toFixed(5) + "，纬度 " + lat.toFixed(5);
    try {
      const response = await fetch("/api/v1/locate?lon=" + lon + "&lat=" + lat);
      if (response.ok) {
        const place = await response.json();
        const names = (place.chain || []).filter((l) => l.level !== "province").map((l) => l.name).reverse();
        text.textContent = "已选位置：" + names.join(" › ");
        showError("err-place", "");
      } else if (response.status === 404) {
        showError("err-place", "该位置不在本市范围内，请重新选择");
      }
    } catch (_) { /* offline: the coordinates are enough */ }
  }
  function setPoint(lon, lat) {
    const lonInput = document.getElementById("lon");
    const latInput = document.getElementById("lat");
    if (!lonInput || !latInput) return;
    lonInput.value = lon.toFixed(6);
    latInput.value = lat.toFixed(6);
    const svg = $("svg.map[data-pickable]");
    if (svg) {
      const d = svg.dataset;
      const x = (lon - Number(d.minLon)) * Number(d.cosLat) * Number(d.scale);
      const y = (Number(d.maxLat) - lat) * Number(d.scale);
      const pin = svg.querySelector("g.pin");
      pin.querySelectorAll("circle").forEach((c) => { c.setAttribute("cx", x); c.setAttribute("cy", y); });
      pin.hidden = false;
      pin.removeAttribute("hidden");
    }
    describePlace(lon, lat);
  }
  document.addEventListener("click", (event) => {
    const svg = event.target.closest && event.target.closest("svg.map[data-pickable]");
    if (!svg) return;
    const point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    const local = point.matrixTransform(svg.getScreenCTM().inverse());
    const d = svg.dataset;
    const lon = Number(d.minLon) + local.x / (Number(d.cosLat) * Number(d.scale));
    const lat = Number(d.maxLat) - local.y / Number(d.scale);
    setPoint(lon, lat);
  });
  // By keyboard: the map takes focus; the arrow keys move the point (from the middle of the
  // map), a step of a fiftieth of the map, with Shift a fifth of that.
  document.addEventListener("keydown", (event) => {
    const svg = event.target.closest && event.target.closest("svg.map[data-pickable]");
    if (!svg) return;
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    const d = svg.dataset;
    const box = svg.viewBox.baseVal;
    const lonInput = document.getElementById("lon");
    const latInput = document.getElementById("lat");
    let x, y;
    if (lonInput.value && latInput.value) {
      x = (Number(lonInput.value) - Number(d.minLon)) * Number(d.cosLat) * Number(d.scale);
      y = (Number(d.maxLat) - Number(latInput.value)) * Number(d.scale);
    } else {
      x = box.width / 2;
      y = box.height / 2;
    }
    const step = (event.shiftKey ? 0.004 : 0.02) * box.width;
    x = Math.min(box.width, Math.max(0, x + move[0] * step));
    y = Math.min(box.height, Math.max(0, y + move[1] * step));
    setPoint(Number(d.minLon) + x / (Number(d.cosLat) * Number(d.scale)), Number(d.maxLat) - y / Number(d.scale));
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button[data-locate]");
    if (!button) return;
    const text = document.getElementById("position-text");
    if (!navigator.geolocation) { if (text) text.textContent = "此设备不支持定位"; return; }
    if (text) text.textContent = "正在定位…";
    navigator.geolocation.getCurrentPosition(
      (position) => setPoint(position.coords.longitude, position.coords.latitude),
      () => { if (text) text.textContent = "无法获取定位，请在地图上点选或选择网格"; },
      { enableHighAccuracy: true, timeout: 15000 },
    );
  });

  // --- The offline report queue --------------------------------------------------------------
  const DB_NAME = "onegrid";
  const STORE = "reports";
  function openDb() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  async function withStore(mode, work) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const result = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      tx.onerror = () => reject(tx.error);
    });
  }
  const queued = () => withStore("readonly", (s) => s.getAll());
  const keep = (item) => withStore("readwrite", (s) => s.put(item));
  const drop = (key) => withStore("readwrite", (s) => s.delete(key));
  const newKey = () => (crypto.randomUUID ? crypto.randomUUID()
    : Date.now().toString(36) + "-" + Math.random().toString(36).slice(2));

  const stats = { sent: 0, replayed: 0, failures: 0 };
  function status(text, sent) {
    const node = document.getElementById("queue-status");
    if (!node) return;
    node.textContent = text;
    node.hidden = !text;
    node.classList.toggle("sent", Boolean(sent));
  }
  async function showPending() {
    let items = [];
    try { items = await queued(); } catch (_) { return 0; }
    if (items.length) status("有 " + items.length + " 条上报保存在本机，网络恢复后自动发送");
    return items.length;
  }
  function showResult(item, cas) {
    const result = document.getElementById("report-result");
    const target = result || document.getElementById("queue-status");
    if (!target) return;
    target.hidden = false;
    target.innerHTML = "";
    const title = document.createElement("h2");
    title.textContent = "提交成功";
    target.appendChild(title);
    const line = document.createElement("p");
    line.textContent = "事件编号 " + cas.number + "，当前状态：" + cas.state_label + "。";
    target.appendChild(line);
    if (cas.tracking_code) {
      const label = document.createElement("p");
      label.textContent = "您的跟踪码（请截图或抄下，凭它查询进度、评价结果）：";
      target.appendChild(label);
      const code = document.createElement("p");
      code.className = "result-code";
      code.id = "tracking-code";
      code.textContent = cas.tracking_code;
      target.appendChild(code);
      const link = document.createElement("p");
      link.innerHTML = '<a href="/portal/track">去查询进度</a>';
      target.appendChild(link);
    } else if (item.channel !== "resident") {
      const link = document.createElement("a");
      link.href = "/ui/cases/" + cas.id;
      link.id = "reported-case";
      link.textContent = "查看事件 " + cas.number;
      target.appendChild(link);
    }
    target.dataset.caseId = cas.id;
    target.dataset.number = cas.number;
    target.scrollIntoView({ block: "start" });
  }

  // One attempt at one queued report. Returns "sent", "offline", "retry" or "rejected".
  async function send(item) {
    try {
      if (item.photo && !item.photoHash) {
        item.photoHash = await upload(item.photo);
        await keep(item);
      }
      const body = Object.assign({}, item.body, { attachments: item.photoHash ? [item.photoHash] : [] });
      const response = await fetch("/api/v1/cases", {
        method: "POST", credentials: "same-origin",
        headers: headers({ "Content-Type": "application/json", "Idempotency-Key": item.key }),
        body: JSON.stringify(body),
      });
      if (response.status === 201) {
        const cas = await response.json();
        if (response.headers.get("idempotent-replayed")) stats.replayed += 1; else stats.sent += 1;
        await drop(item.key);
        showResult(item, cas);
        return "sent";
      }
      const message = await errorMessage(response);
      if (response.status === 401) { status("登录已过期：请重新登录，保存在本机的上报随后自动发送"); return "retry"; }
      if (response.status === 429 || response.status >= 500) { status("服务器繁忙，稍后自动重试"); return "retry"; }
      // The report itself is refused (a field, the place): show why and let the person fix it.
      await drop(item.key);
      stats.failures += 1;
      const form = $("form[data-report]");
      if (/phone/.test(message)) showError("err-phone", "请填写有效的手机号码");
      else if (/lon|lat|grid|place|area/.test(message)) showError("err-place", "位置不在本市范围内，请重新选择");
      else if (/description/.test(message)) showError("err-description", "请填写问题描述");
      else showError("err-form", "提交被拒绝：" + message);
      if (form && item.draft) {
        form.description.value = item.draft.description || "";
        if (form.phone) form.phone.value = item.draft.phone || "";
      }
      return "rejected";
    } catch (_) {
      return "offline";
    }
  }
  let flushing = 0;
  async function flush() {
    flushing += 1;
    try {
      const items = await queued();
      for (const item of items) {
        const outcome = await send(item);
        if (outcome === "offline") break;
      }
      const left = await showPending();
      if (!left && document.getElementById("queue-status") && stats.sent + stats.replayed > 0 &&
          !document.getElementById("report-result")) {
        status("本机保存的上报已全部发送", true);
      } else if (!left && document.getElementById("report-result")) {
        status("", false);
      }
      return left;
    } finally {
      flushing -= 1;
    }
  }
  window.onegridQueue = { flush, queued, stats, isFlushing: () => flushing > 0 };

  function setupReportForm() {
    const form = $("form[data-report]");
    if (!form) return;
    const channel = form.dataset.report;
    // A grid worker who already let this page use the position gets it at once, unasked.
    if (channel === "grid_patrol" && navigator.permissions && navigator.geolocation) {
      navigator.permissions.query({ name: "geolocation" }).then((state) => {
        if (state.state === "granted") {
          navigator.geolocation.getCurrentPosition(
            (position) => setPoint(position.coords.longitude, position.coords.latitude),
            () => {}, { enableHighAccuracy: true, timeout: 15000 });
        }
      }).catch(() => {});
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const description = form.description.value.trim();
      const lon = form.lon.value, lat = form.lat.value;
      const grid = form.grid ? form.grid.value : "";
      let bad = false;
      if (!description) { showError("err-description", "请填写事件描述"); bad = true; }
      if (channel === "resident") {
        const phone = form.phone.value.replace(/[^0-9]/g, "");
        if (!/^1[0-9]{10}$/.test(phone) && !/^0[0-9]{9,11}$/.test(phone)) {
          showError("err-phone", "请填写有效的手机号码（11 位）或座机号码"); bad = true;
        }
      }
      if (!(lon && lat) && !grid) { showError("err-place", "请在地图上点选位置，或使用定位"); bad = true; }
      if (bad) return;
      const body = { description, channel };
      if (form.category && form.category.value) body.category = form.category.value;
      if (form.urgency && form.urgency.value) body.urgency = form.urgency.value;
      if (lon && lat) { body.lon = Number(lon); body.lat = Number(lat); } else { body.grid = grid; }
      if (channel === "resident") {
        body.reporter = { phone: form.phone.value.trim() };
        if (form.name.value.trim()) body.reporter.name = form.name.value.trim();
      }
      const photo = form.photo && form.photo.files[0];
      const item = {
        key: newKey(), channel, body, photo: photo || null, photoHash: null,
        createdAt: new Date().toISOString(),
        draft: { description, phone: form.phone ? form.phone.value : "" },
      };
      await keep(item);
      form.reset();
      const preview = document.getElementById("photo-preview");
      if (preview) preview.innerHTML = "";
      const text = document.getElementById("position-text");
      if (text) text.textContent = "尚未选择位置";
      status("正在发送…");
      const left = await flush();
      if (left) status("网络不通：这条上报已保存在本机（共 " + left + " 条），网络恢复后自动发送");
    });
  }

  // --- Patrol --------------------------------------------------------------------------------
  function setupPatrol() {
    const root = $("[data-patrol]");
    if (!root) return;
    const KEY = "onegrid.patrol";
    const start = document.getElementById("patrol-start");
    const stop = document.getElementById("patrol-stop");
    const state = document.getElementById("patrol-state");
    const count = document.getElementById("patrol-points");
    const error = document.getElementById("patrol-error");
    let watch = null;
    const load = () => JSON.parse(localStorage.getItem(KEY) || "null");
    const save = (track) => localStorage.setItem(KEY, JSON.stringify(track));
    const show = () => {
      const track = load();
      state.textContent = track ? "巡查中（开始于 " + new Date(track.started).toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai" }) + "）" : "未开始";
      count.textContent = "已记录 " + (track ? track.points.length : 0) + " 个定位点";
      start.disabled = Boolean(track);
      stop.disabled = !track;
    };
    const record = (position) => {
      const track = load();
      if (!track) return;
      track.points.push({ lon: position.coords.longitude, lat: position.coords.latitude, at: new Date(position.timestamp).toISOString() });
      save(track);
      show();
    };
    const follow = () => {
      if (!navigator.geolocation) { error.hidden = false; error.textContent = "此设备不支持定位"; return; }
      watch = navigator.geolocation.watchPosition(record, () => {
        error.hidden = false; error.textContent = "无法获取定位：请允许本页面使用位置信息";
      }, { enableHighAccuracy: true, maximumAge: 5000 });
    };
    start.addEventListener("click", () => {
      error.hidden = true;
      save({ started: Date.now(), points: [] });
      follow();
      show();
    });
    stop.addEventListener("click", async () => {
      const track = load();
      if (!track) return;
      if (watch !== null) navigator.geolocation.clearWatch(watch);
      if (!track.points.length) { error.hidden = false; error.textContent = "还没有定位点，无法提交"; return; }
      const response = await fetch("/ui/worker/patrol", {
        method: "POST", credentials: "same-origin",
        headers: headers({ "Content-Type": "application/json" }),
        body: JSON.stringify({ points: track.points, note: document.getElementById("patrol-note").value }),
      }).catch(() => null);
      if (!response) { error.hidden = false; error.textContent = "网络不通，轨迹仍保存在本机，请稍后再提交"; return; }
      if (!response.ok) { error.hidden = false; error.textContent = await errorMessage(response); return; }
      const summary = await response.json();
      localStorage.removeItem(KEY);
      show();
      state.textContent = "巡查已记录：" + summary.points + " 个定位点，约 " + Math.round(summary.metres) + " 米";
    });
    if (load()) follow();
    show();
  }

  // --- Service worker (the phone pages keep opening without network) -------------------------
  function registerServiceWorker() {
    if (!("serviceWorker" in navigator)) return;
    const path = window.location.pathname;
    if (path.startsWith("/ui/worker") || path.startsWith("/portal")) {
      navigator.serviceWorker.register("/sw.js").catch(() => {});
    }
  }

  function start() {
    // Signed out (or about to sign in as someone else): the kept copies of staff pages go.
    if (window.location.pathname === "/signin" && window.caches) {
      caches.keys().then((names) => names.filter((n) => n.startsWith("onegrid-")).forEach((n) => caches.delete(n))).catch(() => {});
    }
    setupSignIn();
    setupReportForm();
    setupPatrol();
    registerServiceWorker();
    if ($("form[data-report]") || document.getElementById("queue-status")) {
      showPending().then(() => flush()).catch(() => {});
      window.addEventListener("online", () => flush());
      setInterval(() => { if (!flushing) flush().catch(() => {}); }, 4000);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
