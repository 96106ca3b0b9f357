// The command-centre screen (一屏观全市). Reads one region's figures, ranking, trend and
// overdue cases from the JSON API, draws them with the embedded ECharts, and refreshes when
// the server's event stream says a case in the region changed. Times are shown in
// Asia/Shanghai whatever the viewer's clock says.
'use strict';

(function () {
  const body = document.body;
  const code = body.dataset.region;

  const FIGURES = {
    accepted: { label: '受理数', kind: 'count' },
    registered: { label: '立案数', kind: 'count' },
    handled: { label: '处置数', kind: 'count' },
    closed: { label: '结案数', kind: 'count' },
    overdue: { label: '超期数', kind: 'count', lowerIsBetter: true },
    handle_rate: { label: '处置率', kind: 'rate' },
    close_rate: { label: '结案率', kind: 'rate' },
    on_time_close_rate: { label: '按期结案率', kind: 'rate' },
    satisfaction_rate: { label: '满意率', kind: 'rate' },
    grid_settlement_rate: { label: '网格内解决率', kind: 'rate' },
    rework_rate: { label: '返工率', kind: 'rate', lowerIsBetter: true },
  };
  const CHANNELS = {
    grid_patrol: '网格员巡查',
    resident: '群众上报',
    hotline: '12345热线',
    other_network: '其他业务网',
    open311: 'Open311',
  };
  const LEVEL_ORDER = ['province', 'city', 'county', 'township', 'village', 'grid'];
  const COLORS = {
    ink: '#e6f0ff',
    dim: '#9fb6d9',
    line: 'rgba(29, 79, 143, 0.6)',
    accent: '#35d0ff',
    accent2: '#6ef0c2',
    warn: '#ffb547',
    bad: '#ff6b6b',
  };

  // ---- dates, in Asia/Shanghai ---------------------------------------------------------
  const dayFormat = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
  });
  const clockFormat = new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
    weekday: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  });
  const timeFormat = new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  });
  const DAY_MS = 86400000;
  const todayInShanghai = () => dayFormat.format(new Date());
  const parseDay = (text) => {
    const [y, m, d] = text.split('-').map(Number);
    return new Date(Date.UTC(y, m - 1, d));
  };
  const formatDay = (date) => date.toISOString().slice(0, 10);

  function periodRange(kind, from, to) {
    const today = parseDay(todayInShanghai());
    const year = today.getUTCFullYear();
    const month = today.getUTCMonth();
    const end = formatDay(today);
    switch (kind) {
      case 'today': return [end, end];
      case 'week': {
        const sinceMonday = (today.getUTCDay() + 6) % 7;
        return [formatDay(new Date(today - sinceMonday * DAY_MS)), end];
      }
      case 'month': return [formatDay(new Date(Date.UTC(year, month, 1))), end];
      case 'quarter': return [formatDay(new Date(Date.UTC(year, month - (month % 3), 1))), end];
      case '30d': return [formatDay(new Date(today - 29 * DAY_MS)), end];
      case 'custom':
        if (from && to && from <= to) return [from, to];
        return [formatDay(new Date(Date.UTC(year, 0, 1))), end];
      default: return [formatDay(new Date(Date.UTC(year, 0, 1))), end];
    }
  }

  // ---- state, kept in the address so that drill-down and reload keep it -----------------
  const params = new URLSearchParams(location.search);
  const state = {
    period: params.get('p') || 'year',
    from: params.get('from') || '',
    to: params.get('to') || '',
    figure: FIGURES[params.get('f')] ? params.get('f') : 'accepted',
  };
  if (!['today', 'week', 'month', 'quarter', 'year', '30d', 'custom'].includes(state.period)) {
    state.period = 'year';
  }

  function query() {
    const q = new URLSearchParams({ p: state.period, f: state.figure });
    if (state.period === 'custom') {
      q.set('from', state.from);
      q.set('to', state.to);
    }
    return q.toString();
  }
  const screenUrl = (regionCode) => `/screen/${encodeURIComponent(regionCode)}?${query()}`;

  // ---- formatting ---------------------------------------------------------------------------
  const number = (n) => (n == null ? '—' : Number(n).toLocaleString('zh-CN'));
  const percent = (value) => (value == null ? '—' : `${(value * 100).toFixed(1)}%`);
  const figureValue = (figures, name) => {
    const value = figures[name];
    if (value && typeof value === 'object') return value.value;
    return value;
  };
  const formatFigure = (name, value) => (FIGURES[name].kind === 'rate' ? percent(value) : number(value));
  const escapeHtml = (text) => String(text == null ? '' : text).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);

  async function api(path, options) {
    const response = await fetch(path, {
      credentials: 'same-origin',
      ...options,
      headers: { accept: 'application/json', ...(options && options.headers) },
    });
    if (!response.ok) {
      let message = `${response.status}`;
      try {
        const error = await response.json();
        message = (error.error && error.error.message) || message;
      } catch (_) { /* not JSON */ }
      const failure = new Error(message);
      failure.status = response.status;
      failure.path = path;
      throw failure;
    }
    return response.json();
  }

  // ---- charts --------------------------------------------------------------------------------
  const charts = {};
  function chart(id) {
    if (!charts[id]) {
      const element = document.getElementById(id);
      charts[id] = echarts.init(element, null, { renderer: 'canvas' });
      new ResizeObserver(() => charts[id].resize()).observe(element);
    }
    return charts[id];
  }
  const axisStyle = {
    axisLine: { lineStyle: { color: COLORS.line } },
    axisLabel: { color: COLORS.dim, fontSize: 13 },
    splitLine: { lineStyle: { color: 'rgba(29, 79, 143, 0.35)' } },
  };
  const tooltipStyle = {
    backgroundColor: 'rgba(6, 20, 48, 0.95)',
    borderColor: COLORS.accent,
    textStyle: { color: COLORS.ink, fontSize: 14 },
  };

  // ---- the region, its map ------------------------------------------------------------------
  let region = null;
  let mapMode = 'children';
  let mapKey = null;

  async function loadRegion() {
    region = await api(`/api/v1/regions/${code}`);
    const chain = region.chain.slice().reverse();
    const crumbs = document.getElementById('breadcrumb');
    crumbs.innerHTML = chain.map((link, i) => (i === chain.length - 1
      ? `<li><span aria-current="page">${escapeHtml(link.name)}</span></li>`
      : `<li><a href="${screenUrl(link.code)}">${escapeHtml(link.name)}</a></li>`)).join('');
    const up = document.getElementById('go-up');
    if (region.parent) {
      up.hidden = false;
      up.href = screenUrl(region.parent);
      up.textContent = `↑ 返回${chain.length > 1 ? chain[chain.length - 2].name : '上级'}`;
    }
    let geo = null;
    if (region.children.length > 0) {
      geo = await api(`/api/v1/regions/${code}/children.geojson`);
    }
    if (!geo || geo.features.length === 0) {
      // The lowest level (a grid), or children without outlines: show the area itself.
      mapMode = 'self';
      if (region.parent) {
        const siblings = await api(`/api/v1/regions/${region.parent}/children.geojson`);
        geo = { type: 'FeatureCollection', features: siblings.features.filter((f) => f.properties.code === code) };
      }
    }
    const caption = document.getElementById('map-caption');
    const note = document.getElementById('map-note');
    if (!geo || geo.features.length === 0) {
      mapMode = 'none';
      caption.textContent = '区域地图';
      note.hidden = false;
      note.textContent = '该区域尚无边界数据，无法绘制地图；下辖区域见右侧排名。';
      return;
    }
    const childLevel = region.children.length > 0 ? region.children[0].level_label : region.level_label;
    caption.textContent = mapMode === 'self' ? `本${region.level_label}` : `下辖${childLevel}`;
    mapKey = `region-${code}`;
    echarts.registerMap(mapKey, geo);
  }

  function drawMap(panel) {
    if (mapMode === 'none') return;
    const name = state.figure;
    const meta = FIGURES[name];
    const areas = mapMode === 'self'
      ? [{ area: panel.region, figures: panel.figures }]
      : panel.children;
    const scale = meta.kind === 'rate' ? 100 : 1;
    const data = areas.map((child) => {
      const value = figureValue(child.figures, name);
      return {
        name: child.area.code,
        areaName: child.area.name,
        value: value == null ? '-' : Math.round(value * scale * 10) / 10,
        accepted: child.figures.accepted,
        handleRate: child.figures.handle_rate.value,
        drill: mapMode === 'children',
      };
    });
    const values = data.map((d) => d.value).filter((v) => v !== '-');
    const max = values.length ? Math.max(...values) : 1;
    const min = values.length ? Math.min(...values) : 0;
    const good = ['#0d3b78', '#1670c7', '#35d0ff', '#6ef0c2'];
    const bad = ['#0d3b78', '#7d5bd6', '#ffb547', '#ff6b6b'];
    let colors = meta.kind === 'rate' ? good : bad;
    if (meta.kind === 'rate' && meta.lowerIsBetter) colors = bad;
    const many = data.length > 40;
    document.getElementById('map-figure').textContent = meta.label;
    chart('map-chart').setOption({
      backgroundColor: 'transparent',
      tooltip: {
        ...tooltipStyle,
        trigger: 'item',
        formatter: (p) => {
          if (!p.data) return escapeHtml(p.name);
          const shown = p.data.value === '-' ? '—' : (meta.kind === 'rate' ? `${p.data.value}%` : number(p.data.value));
          return `<strong>${escapeHtml(p.data.areaName)}</strong><br>${meta.label}：${shown}`
            + `<br>受理：${number(p.data.accepted)} 件　处置率：${percent(p.data.handleRate)}`
            + (p.data.drill ? '<br><span style="color:#9fb6d9">点击进入下一级</span>' : '');
        },
      },
      visualMap: {
        type: 'continuous',
        min: Math.min(min, max === min ? min - 1 : min),
        max: max === min ? max + 1 : max,
        left: 16,
        bottom: 16,
        itemHeight: 140,
        text: [meta.kind === 'rate' ? `${max}%` : number(max), meta.kind === 'rate' ? `${min}%` : number(min)],
        textStyle: { color: COLORS.dim, fontSize: 13 },
        inRange: { color: colors },
        calculable: false,
      },
      series: [{
        id: 'regions',
        type: 'map',
        map: mapKey,
        nameProperty: 'code',
        roam: true,
        scaleLimit: { min: 0.8, max: 12 },
        top: 24,
        bottom: 24,
        left: 64,
        right: 24,
        selectedMode: false,
        label: {
          show: !many,
          color: '#ffffff',
          fontSize: data.length > 15 ? 12 : 16,
          textBorderColor: 'rgba(0, 0, 0, 0.6)',
          textBorderWidth: 2,
          formatter: (p) => (p.data ? p.data.areaName : ''),
        },
        itemStyle: { areaColor: '#0b2a5a', borderColor: '#7fe3ff', borderWidth: many ? 0.4 : 1.2 },
        emphasis: {
          label: { show: true, color: '#111', textBorderWidth: 0, formatter: (p) => (p.data ? p.data.areaName : '') },
          itemStyle: { areaColor: '#ffe066', shadowBlur: 12, shadowColor: 'rgba(255, 224, 102, 0.6)' },
        },
        data,
      }],
    }, { replaceMerge: ['series'] });
  }

  // ---- panels ----------------------------------------------------------------------------------
  function setCounter(id, text) {
    const element = document.getElementById(id);
    if (element.textContent !== text) {
      const changed = element.textContent !== '—';
      element.textContent = text;
      if (changed) {
        const card = element.closest('.counter');
        card.classList.add('changed');
        setTimeout(() => card.classList.remove('changed'), 2500);
      }
    }
  }

  function drawCounters(figures) {
    setCounter('count-accepted', number(figures.accepted));
    setCounter('count-registered', number(figures.registered));
    setCounter('count-handled', number(figures.handled));
    setCounter('count-closed', number(figures.closed));
    setCounter('count-overdue', number(figures.overdue));
    const rate = (id, r) => {
      setCounter(id, percent(r.value));
      document.getElementById(`${id}-sub`).textContent = `${number(r.numerator)} / ${number(r.denominator)}`;
    };
    rate('rate-handle', figures.handle_rate);
    rate('rate-on-time-close', figures.on_time_close_rate);
    rate('rate-satisfaction', figures.satisfaction_rate);
  }

  function drawTrend(trend) {
    const stepName = { day: '按日', week: '按周', month: '按月' }[trend.step] || '';
    document.getElementById('trend-step').textContent = `${stepName} · ${trend.from} 至 ${trend.to}`;
    const label = (point) => {
      if (trend.step === 'day') return point.label.slice(5);
      if (trend.step === 'week') return `${point.start.slice(5)}周`;
      return `${Number(point.label.slice(5))}月`;
    };
    chart('trend-chart').setOption({
      backgroundColor: 'transparent',
      grid: { left: 8, right: 12, top: 34, bottom: 4, containLabel: true },
      legend: { top: 0, right: 0, textStyle: { color: COLORS.dim, fontSize: 13 }, itemWidth: 14, itemHeight: 8 },
      tooltip: { ...tooltipStyle, trigger: 'axis' },
      xAxis: { type: 'category', data: trend.points.map(label), ...axisStyle, splitLine: { show: false } },
      yAxis: { type: 'value', minInterval: 1, ...axisStyle },
      series: [
        {
          name: '受理', type: 'bar', data: trend.points.map((p) => p.accepted), barMaxWidth: 18,
          itemStyle: { color: new echarts.graphic.LinearGradient(0, 0, 0, 1, [{ offset: 0, color: COLORS.accent }, { offset: 1, color: 'rgba(53, 208, 255, 0.15)' }]) },
        },
        { name: '处置', type: 'line', smooth: true, symbol: 'none', data: trend.points.map((p) => p.handled), lineStyle: { width: 2, color: COLORS.accent2 }, itemStyle: { color: COLORS.accent2 } },
        { name: '结案', type: 'line', smooth: true, symbol: 'none', data: trend.points.map((p) => p.closed), lineStyle: { width: 2, color: '#b48cff' }, itemStyle: { color: '#b48cff' } },
        { name: '超期', type: 'line', smooth: true, symbol: 'none', data: trend.points.map((p) => p.overdue), lineStyle: { width: 2, color: COLORS.warn, type: 'dashed' }, itemStyle: { color: COLORS.warn } },
      ],
    });
  }

  function drawCategories(categories) {
    const top = categories.slice(0, 8).reverse();
    chart('category-chart').setOption({
      backgroundColor: 'transparent',
      grid: { left: 8, right: 48, top: 4, bottom: 4, containLabel: true },
      tooltip: { ...tooltipStyle, trigger: 'axis', axisPointer: { type: 'shadow' } },
      xAxis: { type: 'value', minInterval: 1, ...axisStyle, axisLabel: { show: false } },
      yAxis: { type: 'category', data: top.map((c) => c[1]), ...axisStyle, axisLabel: { color: COLORS.ink, fontSize: 14 } },
      series: [{
        type: 'bar', name: '事件数', data: top.map((c) => c[2]), barMaxWidth: 16,
        label: { show: true, position: 'right', color: COLORS.ink, fontSize: 13 },
        itemStyle: {
          borderRadius: [0, 8, 8, 0],
          color: new echarts.graphic.LinearGradient(0, 0, 1, 0, [{ offset: 0, color: 'rgba(110, 240, 194, 0.25)' }, { offset: 1, color: COLORS.accent2 }]),
        },
      }],
      graphic: top.length ? [] : [{ type: 'text', left: 'center', top: 'middle', style: { text: '本期暂无事件', fill: COLORS.dim, fontSize: 15 } }],
    }, { replaceMerge: ['graphic'] });
  }

  function drawChannels(channels) {
    const data = channels.map(([channel, count]) => ({ name: CHANNELS[channel] || channel, value: count }));
    chart('channel-chart').setOption({
      backgroundColor: 'transparent',
      color: [COLORS.accent, COLORS.accent2, '#b48cff', COLORS.warn, '#ff8fab'],
      tooltip: { ...tooltipStyle, trigger: 'item', formatter: '{b}：{c} 件（{d}%）' },
      legend: { orient: 'vertical', right: 4, top: 'middle', textStyle: { color: COLORS.ink, fontSize: 13 }, itemWidth: 12, itemHeight: 12 },
      series: [{
        type: 'pie', radius: ['48%', '78%'], center: ['34%', '52%'],
        label: { show: false }, labelLine: { show: false },
        itemStyle: { borderColor: '#050d1f', borderWidth: 2 },
        data,
      }],
      graphic: data.length ? [] : [{ type: 'text', left: 'center', top: 'middle', style: { text: '本期暂无事件', fill: COLORS.dim, fontSize: 15 } }],
    }, { replaceMerge: ['graphic'] });
  }

  function drawRanking(ranking) {
    const meta = FIGURES[state.figure];
    document.getElementById('ranking-figure').textContent = meta.label;
    document.getElementById('ranking-value-head').textContent = meta.label;
    const tbody = document.getElementById('ranking-body');
    if (ranking.length === 0) {
      tbody.innerHTML = '<tr><td colspan="4" class="empty">无下辖区域</td></tr>';
      return;
    }
    const values = ranking.map((r) => figureValue(r.figures, state.figure)).filter((v) => v != null);
    const max = Math.max(...values, 0) || 1;
    tbody.innerHTML = ranking.map((r) => {
      const value = figureValue(r.figures, state.figure);
      const width = value == null ? 0 : Math.max(2, Math.round((value / max) * 100));
      return `<tr data-code="${escapeHtml(r.area.code)}">`
        + `<td><span class="rank r${r.rank}">${r.rank}</span></td>`
        + `<td><a href="${screenUrl(r.area.code)}">${escapeHtml(r.area.name)}</a></td>`
        + `<td class="num">${formatFigure(state.figure, value)}<span class="bar" style="width:${width}%"></span></td>`
        + `<td class="num">${percent(r.figures.handle_rate.value)}</td></tr>`;
    }).join('');
  }

  function drawOverdue(list) {
    const tbody = document.getElementById('overdue-body');
    document.getElementById('overdue-count').textContent = list.cases.length
      ? `最近 ${list.cases.length}${list.more ? '+' : ''} 件` : '';
    if (list.cases.length === 0) {
      tbody.innerHTML = '<tr><td colspan="5" class="empty">暂无超期未结案件</td></tr>';
      return;
    }
    const depth = LEVEL_ORDER.indexOf(region.level);
    tbody.innerHTML = list.cases.map((c) => {
      const below = c.chain.slice().reverse().filter((link) => LEVEL_ORDER.indexOf(link.level) > depth);
      const place = below.slice(0, 2).map((link) => link.name).join(' ') || region.name;
      return `<tr><td class="case-no" title="${escapeHtml(c.description)}">${escapeHtml(c.number)}</td>`
        + `<td title="${escapeHtml(c.category_name || '未分类')}">${escapeHtml(c.category_name || '未分类')}</td>`
        + `<td title="${escapeHtml(place)}">${escapeHtml(place)}</td>`
        + `<td>${escapeHtml(c.state_label)}</td>`
        + `<td class="late">${escapeHtml(c.overdue_text || '曾超期')}</td></tr>`;
    }).join('');
  }

  // ---- loading and refreshing ---------------------------------------------------------------
  let refreshes = 0;
  let refreshing = null;
  let again = false;

  async function refresh() {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = (async () => {
      const [from, to] = periodRange(state.period, state.from, state.to);
      const period = `from=${from}&to=${to}`;
      try {
        const [panel, ranking, trend, overdue] = await Promise.all([
          api(`/api/v1/regions/${code}/figures?${period}`),
          region.children.length ? api(`/api/v1/regions/${code}/ranking?${period}&by=${state.figure}`) : Promise.resolve([]),
          api(`/api/v1/regions/${code}/trend?${period}`),
          api(`/api/v1/regions/${code}/overdue?limit=50`),
        ]);
        drawCounters(panel.figures);
        drawMap(panel);
        drawTrend(trend);
        drawCategories(panel.categories);
        drawChannels(panel.channels);
        drawRanking(ranking);
        drawOverdue(overdue);
        refreshes += 1;
        listen();
        body.dataset.refreshes = String(refreshes);
        body.dataset.ready = '1';
        document.getElementById('updated').textContent = `数据更新于 ${timeFormat.format(new Date())}（${from} 至 ${to}）`;
      } catch (error) {
        if (error.status === 401) {
          showSignIn(error.message);
        } else if (error.status === 403 || error.status === 404) {
          document.getElementById('updated').textContent = `无权查看或不存在：${error.message}`;
        } else {
          document.getElementById('updated').textContent = `数据加载失败：${error.message}`;
        }
      } finally {
        refreshing = null;
      }
      if (again) {
        again = false;
        await refresh();
      }
    })();
    return refreshing;
  }

  // ---- signing in: the data is for signed-in staff; the page itself is not ------------------
  function showSignIn(reason) {
    const overlay = document.getElementById('signin');
    if (!overlay.hidden) return;
    // The server's reason matters once the page had been signed in (会话已超时); before that,
    // it only says that nobody is.
    document.getElementById('signin-reason').textContent = refreshes > 0
      ? `登录已失效（${reason}），请重新登录。` : '请登录后查看本区域的数据。';
    overlay.hidden = false;
    document.getElementById('signin-login').focus();
  }

  function signInForm() {
    const form = document.getElementById('signin-form');
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const error = document.getElementById('signin-error');
      const totp = document.getElementById('signin-totp').value.trim();
      error.textContent = '';
      try {
        await api('/api/v1/session', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            login: document.getElementById('signin-login').value,
            password: document.getElementById('signin-password').value,
            totp: totp || null,
          }),
        });
      } catch (failure) {
        error.textContent = `登录失败：${failure.message}`;
        return;
      }
      document.getElementById('signin-password').value = '';
      document.getElementById('signin').hidden = true;
      refresh();
    });
  }

  let source = null;
  function listen() {
    const live = document.getElementById('live');
    if (!window.EventSource) {
      if (!source) {
        source = setInterval(refresh, 10000);
        live.textContent = '○ 定时刷新';
      }
      return;
    }
    // Opened after the first answer that came through signed in; reopened if it was closed
    // (a server restart or a session that ran out), never twice.
    if (source && source.readyState !== EventSource.CLOSED) return;
    source = new EventSource(`/api/v1/regions/${code}/events`);
    let timer = null;
    source.addEventListener('ready', () => {
      live.className = 'live on';
      live.textContent = '● 实时';
    });
    source.addEventListener('change', () => {
      live.className = 'live on';
      live.textContent = '● 实时';
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    });
    source.onerror = () => {
      live.className = 'live off';
      live.textContent = '○ 重连中';
    };
  }

  function controls() {
    const period = document.getElementById('period');
    const figure = document.getElementById('figure');
    const custom = document.getElementById('custom-range');
    const from = document.getElementById('from');
    const to = document.getElementById('to');
    period.value = state.period;
    figure.value = state.figure;
    const [f, t] = periodRange(state.period, state.from, state.to);
    from.value = f;
    to.value = t;
    custom.hidden = state.period !== 'custom';
    const apply = () => {
      history.replaceState(null, '', `${location.pathname}?${query()}`);
      document.querySelectorAll('#breadcrumb a').forEach((a) => {
        a.href = `${a.pathname}?${query()}`;
      });
      const up = document.getElementById('go-up');
      if (!up.hidden) up.href = `${up.pathname}?${query()}`;
      refresh();
    };
    period.addEventListener('change', () => {
      state.period = period.value;
      custom.hidden = state.period !== 'custom';
      if (state.period === 'custom') {
        state.from = from.value;
        state.to = to.value;
      }
      apply();
    });
    figure.addEventListener('change', () => {
      state.figure = figure.value;
      apply();
    });
    document.getElementById('controls').addEventListener('submit', (event) => {
      event.preventDefault();
      state.from = from.value;
      state.to = to.value;
      apply();
    });
  }

  function tick() {
    document.getElementById('clock').textContent = clockFormat.format(new Date());
  }

  async function start() {
    tick();
    setInterval(tick, 1000);
    controls();
    try {
      await loadRegion();
    } catch (error) {
      document.getElementById('updated').textContent = `区域加载失败：${error.message}`;
      return;
    }
    if (mapMode !== 'none') {
      chart('map-chart').on('click', (p) => {
        if (p.data && p.data.drill) location.href = screenUrl(p.data.name);
      });
    }
    signInForm();
    await refresh();
    // The overdue times move on and the day turns over even when no case changes.
    setInterval(refresh, 60000);
  }

  window.onegridScreen = { charts, state, refresh };
  start();
}());
