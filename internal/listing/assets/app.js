// ferry listing page: progressive enhancement.
//
// The page works without this script (links, sort, plain upload and new-folder
// forms, times in UTC). This adds a filter box, drag-and-drop uploads with
// progress, rename/delete buttons, a QR code pop-up and times in the viewer's
// own time zone, each only when the server says it allows them through the
// <body> data- attributes. Plain script, no framework, no build step; it
// runs under a CSP without 'unsafe-inline', so it never sets inline styles or
// handlers and never evaluates strings.
(function () {
  'use strict';

  var body = document.body;
  if (!body || !window.URL || !document.querySelector) return;

  var can = {
    upload: body.dataset.canUpload === '1',
    del: body.dataset.canDelete === '1',
    move: body.dataset.canMove === '1',
    overwrite: body.dataset.canOverwrite === '1'
  };
  var maxUpload = parseInt(body.dataset.maxUpload || '0', 10) || 0;
  // Listing URLs always end in "/", so "./" is this folder whatever the
  // query string (sort order) or the prefix the server is mounted under.
  var folderURL = new URL('./', location.href).href;

  body.classList.add('js');

  // ---------------------------------------------------------------- helpers

  function $(sel, root) { return (root || document).querySelector(sel); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function humanSize(n) {
    if (n < 1024) return n + ' B';
    var units = 'KMGTPE', u = -1;
    do { n /= 1024; u++; } while (n >= 1023.5 && u < units.length - 1);
    return (n < 9.95 ? n.toFixed(1) : Math.round(n)) + ' ' + units[u] + 'iB';
  }

  function humanDuration(s) {
    if (!isFinite(s) || s < 0) return '';
    s = Math.round(s);
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  }

  // summaryText words counts as the server's summary line does.
  function summaryText(dirs, files, bytes) {
    var parts = [];
    if (dirs) parts.push(dirs === 1 ? '1 folder' : dirs + ' folders');
    if (files) parts.push(files === 1 ? '1 file' : files + ' files', humanSize(bytes));
    return parts.length ? parts.join(' · ') : 'empty';
  }

  // fold makes names comparable for the filter: case, accents and
  // compatibility forms (full-width letters, ligatures) do not count, so "e"
  // finds "Été" and "ﬁle" finds "file".
  var MARKS = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/g;
  function fold(s) {
    s = String(s);
    if (s.normalize) s = s.normalize('NFKD').replace(MARKS, '');
    return s.toLowerCase();
  }

  // ------------------------------------------------------------------ times
  //
  // The server writes modification times in UTC and says so in the column
  // header; here they become the viewer's own local time, in the same
  // format, and the header names the zone.

  function pad(n, width) {
    n = String(n);
    while (n.length < width) n = '0' + n;
    return n;
  }

  function localTime(d) {
    var y = d.getFullYear();
    if (y < 0 || y > 9999) return '';
    return pad(y, 4) + '-' + pad(d.getMonth() + 1, 2) + '-' + pad(d.getDate(), 2) + ' ' +
      pad(d.getHours(), 2) + ':' + pad(d.getMinutes(), 2);
  }

  function zoneName() {
    try {
      var parts = new Intl.DateTimeFormat(undefined, { timeZoneName: 'short' }).formatToParts(new Date());
      for (var i = 0; i < parts.length; i++) if (parts[i].type === 'timeZoneName') return parts[i].value;
    } catch (e) { /* an old browser: say it plainly */ }
    return 'local time';
  }

  function localizeHeader() {
    var tz = $('#listing th.t .tz');
    if (!tz) return;
    tz.textContent = '(' + zoneName() + ')';
    try { tz.title = 'Times in your time zone, ' + Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { /* keep none */ }
  }

  // localizeRow rewrites a row's <time> once; datetime keeps the UTC value.
  function localizeRow(row) {
    var t = row.querySelector('time');
    if (!t || t.dataset.local) return;
    var d = new Date(t.dateTime);
    var text = isNaN(d.getTime()) ? '' : localTime(d);
    if (text) t.textContent = text;
    t.dataset.local = '1';
  }

  // encodePath escapes each segment of a relative path ("a b/c#.txt").
  function encodePath(rel) {
    return rel.split('/').map(encodeURIComponent).join('/');
  }

  // serverText is the first line or so of an error body, for messages. Error
  // bodies are plain text because our requests do not ask for HTML.
  function serverText(text) {
    text = String(text || '').replace(/\s+/g, ' ').trim();
    return text.length > 200 ? text.slice(0, 200) + '…' : text;
  }

  // explain turns a failed request into words. `special` overrides statuses
  // whose meaning depends on the operation (409 means "exists" for uploads
  // but "parent folder missing" for a move).
  function explain(status, text, special) {
    if (special && special[status]) return special[status];
    switch (status) {
      case 0: return 'network error: the server could not be reached';
      case 400: return 'refused: ' + (serverText(text) || 'bad request');
      case 401: return 'you need to log in again';
      case 403: return 'not allowed' + (serverText(text) ? ' (' + serverText(text) + ')' : '');
      case 404: return 'not found (it may have been moved or deleted)';
      case 405: return 'not allowed on this server';
      case 409: return 'already exists';
      case 412: return 'the new name already exists';
      case 413: return 'too large' + (maxUpload ? ' (limit ' + humanSize(maxUpload) + ')' : '');
      case 507: return 'server disk full';
      default: return 'failed: HTTP ' + status + (serverText(text) ? ' ' + serverText(text) : '');
    }
  }

  // request sends a small write request (MKCOL, DELETE, MOVE) and resolves
  // with {ok, status, text}; network failures resolve with status 0.
  function request(method, url, headers) {
    return fetch(url, { method: method, headers: headers || {}, credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) {
        return res.text().then(function (t) { return { ok: res.ok, status: res.status, text: t }; });
      }, function () { return { ok: false, status: 0, text: '' }; });
  }

  var toastTimer = 0;
  function toast(message, isError) {
    var t = $('.toast');
    if (!t) {
      t = el('div', 'toast');
      t.setAttribute('role', 'alert');
      var msg = el('span', 'toast-msg');
      var close = el('button', 'icon-btn cancel');
      close.type = 'button';
      close.setAttribute('aria-label', 'Dismiss message');
      close.addEventListener('click', function () { t.hidden = true; });
      t.appendChild(msg);
      t.appendChild(close);
      body.appendChild(t);
    }
    t.classList.toggle('error', !!isError);
    $('.toast-msg', t).textContent = message;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.hidden = true; }, isError ? 10000 : 4000);
  }

  // ----------------------------------------------------------------- rows

  function tbody() { return $('#listing tbody'); }

  // entryRows are the rows that stand for entries (not "../", not "empty").
  function entryRows() {
    return Array.prototype.filter.call(tbody().rows, function (r) { return r.dataset.name != null; });
  }

  function entryURL(row) { return $('td.n a', row).href; }

  // refresh re-reads this page and swaps in its table body, so new and
  // removed entries show with the server's own rendering and sort order.
  function refresh() {
    return fetch(location.href, { headers: { Accept: 'text/html' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fresh = $('#listing tbody', doc);
        if (!fresh) throw new Error('no listing');
        tbody().replaceWith(document.adoptNode(fresh));
        var sum = $('#summary', doc);
        if (sum && $('#summary')) $('#summary').textContent = sum.textContent;
        enhanceRows();
      })
      .catch(function () { location.reload(); });
  }

  // ---------------------------------------------------------------- filter

  var filter = {
    input: $('#filter'),
    rows: [],
    names: [],
    dirs: [],
    sizes: [],
    base: '', // the server's summary line, shown when nothing is filtered
    none: null, // the "no matches" row
    frame: 0,
    index: function () {
      this.rows = entryRows();
      this.names = this.rows.map(function (r) { return fold(r.dataset.name); });
      this.dirs = this.rows.map(function (r) { return r.dataset.dir === '1'; });
      this.sizes = this.rows.map(function (r) {
        var s = r.querySelector('td.s[data-bytes]');
        return s ? Number(s.dataset.bytes) || 0 : 0;
      });
      var sum = $('#summary');
      this.base = sum ? sum.textContent : '';
      this.apply();
    },
    apply: function () {
      if (!this.input) return;
      var raw = this.input.value.trim(), q = fold(raw);
      var shown = 0, dirs = 0, files = 0, bytes = 0;
      for (var i = 0; i < this.rows.length; i++) {
        var hit = !q || this.names[i].indexOf(q) !== -1;
        if (this.rows[i].hidden === hit) this.rows[i].hidden = !hit;
        if (!hit) continue;
        shown++;
        if (this.dirs[i]) dirs++;
        else { files++; bytes += this.sizes[i]; }
      }
      this.input.title = q ? shown + ' of ' + this.rows.length + ' shown' : '';
      // The summary counts what is shown; the last row says when nothing is.
      var sum = $('#summary');
      if (sum) {
        if (!q) sum.textContent = this.base;
        else if (!shown) sum.textContent = 'no matches (' + this.rows.length + ' entries)';
        else sum.textContent = summaryText(dirs, files, bytes) + ' (' + shown + ' of ' + this.rows.length + ')';
      }
      this.noMatches(q && !shown && this.rows.length ? raw : '');
    },
    noMatches: function (raw) {
      if (!raw) {
        if (this.none) this.none.hidden = true;
        return;
      }
      if (!this.none) {
        this.none = el('tr', 'empty no-match');
        this.none.appendChild(el('td'));
      }
      var td = this.none.firstChild;
      td.colSpan = Math.max(3, $('#listing thead tr').cells.length);
      td.textContent = 'No matches for “' + raw + '”.';
      if (this.none.parentNode !== tbody()) tbody().appendChild(this.none);
      this.none.hidden = false;
    },
    init: function () {
      if (!this.input) return;
      var self = this;
      $('#filter-wrap').hidden = false;
      // Coalesce keystrokes into one pass per frame: at 100,000 rows a pass
      // per key would lag.
      this.input.addEventListener('input', function () {
        cancelAnimationFrame(self.frame);
        self.frame = requestAnimationFrame(function () { self.apply(); });
      });
      this.input.addEventListener('keydown', function (e) {
        if (e.key === 'Escape') { self.input.value = ''; self.apply(); self.input.blur(); }
      });
      // "/" focuses the filter, as on many sites.
      document.addEventListener('keydown', function (e) {
        if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
        var t = e.target;
        if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
        e.preventDefault();
        self.input.focus();
      });
    }
  };

  // ------------------------------------------------------- rename / delete

  function actionCell(row) {
    var name = row.dataset.name;
    var td = el('td', 'a');
    if (can.move) {
      var r = el('button', 'icon-btn rename');
      r.type = 'button';
      r.dataset.act = 'rename';
      r.title = 'Rename';
      r.setAttribute('aria-label', 'Rename ' + name);
      td.appendChild(r);
    }
    if (can.del) {
      var d = el('button', 'icon-btn delete');
      d.type = 'button';
      d.dataset.act = 'delete';
      d.title = 'Delete';
      d.setAttribute('aria-label', 'Delete ' + name);
      td.appendChild(d);
    }
    return td;
  }

  // enhanceRows shows times in local time and adds the action cells (in
  // slices, so 100,000 rows do not freeze the page), and re-indexes the
  // filter.
  function enhanceRows() {
    filter.index();
    var actions = can.move || can.del;
    var head = $('#listing thead tr');
    if (actions && head && !$('th.a', head)) {
      var th = el('th', 'a');
      th.appendChild(el('span', 'visually-hidden', 'Actions'));
      th.setAttribute('scope', 'col');
      head.appendChild(th);
    }
    if (actions) {
      Array.prototype.forEach.call(tbody().rows, function (r) {
        if (r.dataset.name == null && !r.querySelector('td.a') && !r.classList.contains('empty')) r.appendChild(el('td', 'a'));
      });
    }
    var rows = entryRows(), i = 0;
    (function slice() {
      var end = Math.min(i + 2000, rows.length);
      for (; i < end; i++) {
        localizeRow(rows[i]);
        if (actions && !rows[i].querySelector('td.a')) rows[i].appendChild(actionCell(rows[i]));
      }
      if (i < rows.length) setTimeout(slice, 0);
    })();
  }

  // ---------------------------------------------------------------- QR code
  //
  // Without this script the QR button opens the code as an image of its
  // own; here it pops up next to the button, with the address spelled out.

  function initQR() {
    var form = $('#qr');
    if (!form) return;
    var btn = $('button', form), pop = null;
    btn.setAttribute('aria-expanded', 'false');
    function close() {
      if (!pop || pop.hidden) return;
      pop.hidden = true;
      btn.setAttribute('aria-expanded', 'false');
    }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (pop && !pop.hidden) { close(); return; }
      if (!pop) {
        var u = form.elements.u.value;
        // A path means "this server as the browser reached it".
        var shown = u.charAt(0) === '/' ? folderURL : u;
        pop = el('div', 'qr-pop');
        pop.id = 'qr-pop';
        var img = el('img');
        img.alt = 'QR code of ' + shown;
        img.width = 180;
        img.height = 180;
        img.src = new URL(form.getAttribute('action'), location.href).href + '?u=' + encodeURIComponent(u);
        pop.appendChild(img);
        pop.appendChild(el('span', 'qr-url', shown));
        form.appendChild(pop);
        btn.setAttribute('aria-controls', 'qr-pop');
      }
      pop.hidden = false;
      btn.setAttribute('aria-expanded', 'true');
    });
    document.addEventListener('click', function (e) { if (!form.contains(e.target)) close(); });
    document.addEventListener('keydown', function (e) { if (e.key === 'Escape') close(); });
  }

  function onRowAction(e) {
    var btn = e.target.closest && e.target.closest('button[data-act]');
    if (!btn) return;
    var row = btn.closest('tr');
    if (!row || row.dataset.name == null) return;
    if (btn.dataset.act === 'delete') remove(row);
    else if (btn.dataset.act === 'rename') rename(row);
  }

  function remove(row) {
    var name = row.dataset.name, isDir = row.dataset.dir === '1';
    if (isDir) {
      // Deleting a folder takes everything in it: ask for its name, not a
      // click that muscle memory answers.
      var typed = prompt('Delete the folder "' + name + '" and EVERYTHING inside it?\n' +
        'This cannot be undone. Type the folder name to confirm:');
      if (typed == null) return;
      if (typed.trim() !== name) { toast('Not deleted: the name did not match.', true); return; }
    } else if (!confirm('Delete "' + name + '"? This cannot be undone.')) {
      return;
    }
    request('DELETE', entryURL(row)).then(function (res) {
      if (res.ok) {
        row.remove();
        filter.index();
        toast('Deleted ' + name);
        refresh();
      } else {
        toast('Could not delete "' + name + '": ' + explain(res.status, res.text), true);
      }
    });
  }

  function checkName(name) {
    if (!name) return 'the name is empty';
    if (name === '.' || name === '..') return 'that name is reserved';
    if (/[\/\\]/.test(name)) return 'a name cannot contain / or \\';
    if (/[\u0000-\u001f\u007f]/.test(name)) return 'a name cannot contain control characters';
    if (new Blob([name]).size > 255) return 'the name is too long';
    return '';
  }

  function rename(row) {
    var name = row.dataset.name, isDir = row.dataset.dir === '1';
    var next = prompt('Rename "' + name + '" to:', name);
    if (next == null) return;
    next = next.trim();
    if (next === name) return;
    var bad = checkName(next);
    if (bad) { toast('Not renamed: ' + bad + '.', true); return; }
    // Destination must be an absolute URL (RFC 4918 §10.3). Overwrite: F so
    // a rename never silently replaces another entry.
    var dest = new URL(encodeURIComponent(next) + (isDir ? '/' : ''), folderURL).href;
    request('MOVE', entryURL(row), { Destination: dest, Overwrite: 'F' }).then(function (res) {
      if (res.ok) {
        toast('Renamed to ' + next);
        refresh();
      } else {
        toast('Could not rename "' + name + '": ' + explain(res.status, res.text, {
          412: '"' + next + '" already exists',
          409: 'the target folder does not exist'
        }), true);
      }
    });
  }

  // ------------------------------------------------------------ new folder

  function initMkdir() {
    var form = $('#mkdir-form');
    if (!form) return;
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var input = form.elements.mkdir;
      var name = input.value.trim();
      var bad = checkName(name);
      if (bad) { toast('Folder not created: ' + bad + '.', true); return; }
      request('MKCOL', folderURL + encodeURIComponent(name) + '/').then(function (res) {
        if (res.ok) {
          input.value = '';
          toast('Created folder ' + name);
          refresh();
        } else {
          toast('Could not create "' + name + '": ' + explain(res.status, res.text, {
            405: '"' + name + '" already exists',
            409: '"' + name + '" already exists'
          }), true);
        }
      });
    });
  }

  // --------------------------------------------------------------- uploads
  //
  // An upload is a Job (one file and its path relative to this folder). The
  // queue runs a few jobs at a time through a transport; the view shows them.
  // A transport is function(job, events) returning {abort()}, and reports
  // events.progress(sent, total), events.done(status) and
  // events.fail(status, text) (status 0 = network) or events.aborted(). A
  // resumable transport (tus: POST to create, PATCH with Upload-Offset) can
  // be added to `transports` and chosen in pickTransport without touching
  // the queue or the view.

  var transports = {
    // put stores the raw body with PUT <folder>/<relative path>; the server
    // creates missing parent folders. XMLHttpRequest rather than fetch,
    // because only it reports upload progress.
    put: function (job, events) {
      var xhr = new XMLHttpRequest();
      xhr.open('PUT', folderURL + encodePath(job.path));
      xhr.upload.onprogress = function (e) { events.progress(e.loaded, e.lengthComputable ? e.total : job.file.size); };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) events.done(xhr.status);
        else events.fail(xhr.status, xhr.responseText);
      };
      xhr.onerror = function () { events.fail(0, ''); };
      xhr.onabort = function () { events.aborted(); };
      xhr.send(job.file);
      return { abort: function () { xhr.abort(); } };
    }
  };

  // Resumable uploads (tus.js) when the server offers them, PUT otherwise.
  function pickTransport(/* job */) {
    if (body.dataset.canResume !== '1' || !window.ferryTus) return transports.put;
    return function (job, events) { return window.ferryTus.transport(job, events, transports.put); };
  }

  var CONCURRENCY = 3;

  function Job(file, path) {
    this.file = file;
    this.path = path;
    this.state = 'queued'; // queued | sending | done | failed | cancelled
    this.handle = null;
    this.start = 0;
    this.samples = []; // [time, bytes] for the speed estimate
    this.view = null;
    this.reported = false; // failure already announced
  }

  var queue = {
    jobs: [],
    active: 0,
    succeeded: 0,
    add: function (items) {
      var self = this;
      items.forEach(function (it) {
        var job = new Job(it.file, it.path);
        self.jobs.push(job);
        view.add(job);
        // Refuse early what the server would refuse with 413 anyway.
        if (maxUpload && it.file.size > maxUpload) {
          job.state = 'failed';
          view.finish(job, 'too large: ' + humanSize(it.file.size) + ', the limit is ' + humanSize(maxUpload));
        }
      });
      this.pump();
    },
    pump: function () {
      while (this.active < CONCURRENCY) {
        var job = this.jobs.find(function (j) { return j.state === 'queued'; });
        if (!job) break;
        this.run(job);
      }
      if (this.active === 0 && !this.jobs.some(function (j) { return j.state === 'queued'; })) this.settled();
    },
    run: function (job) {
      var self = this;
      job.state = 'sending';
      job.start = performance.now();
      this.active++;
      view.update(job, 0, job.file.size);
      job.handle = pickTransport(job)(job, {
        progress: function (sent, total) { job.sent = sent; view.update(job, sent, total); },
        note: function () { job.view.last = 0; view.update(job, job.sent || 0, job.file.size); },
        done: function () { self.active--; self.succeeded++; self.finish(job, 'done', 'uploaded'); },
        fail: function (status, text) {
          self.active--;
          self.finish(job, 'failed', explain(status, text));
        },
        aborted: function () { self.active--; self.finish(job, 'cancelled', 'cancelled'); }
      });
    },
    cancel: function (job) {
      if (job.state === 'sending' && job.handle) job.handle.abort();
      else if (job.state === 'queued') this.finish(job, 'cancelled', 'cancelled');
    },
    finish: function (job, state, message) {
      job.state = state;
      job.handle = null;
      view.finish(job, message);
      this.pump();
    },
    // settled runs when nothing is left to send: show what arrived.
    settled: function () {
      if (this.succeeded > 0) {
        this.succeeded = 0;
        refresh();
      }
      view.settled();
    }
  };

  // Finished cards go this long after the last upload of a batch ends;
  // failed ones stay until cleared, so their reason can be read.
  var CLEAR_DONE_MS = 6000;

  var view = {
    list: $('#uploads'),
    clear: null,
    doneTimer: 0,
    add: function (job) {
      var li = el('li');
      var name = el('span', 'u-name', job.path);
      name.title = job.path;
      var bar = el('progress');
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute('aria-label', 'Upload of ' + job.path);
      var stat = el('span', 'u-stat', 'waiting · ' + humanSize(job.file.size));
      var cancel = el('button', 'icon-btn cancel');
      cancel.type = 'button';
      cancel.title = 'Cancel';
      cancel.setAttribute('aria-label', 'Cancel upload of ' + job.path);
      cancel.addEventListener('click', function () { queue.cancel(job); });
      li.appendChild(name);
      li.appendChild(cancel);
      li.appendChild(bar);
      li.appendChild(stat);
      job.view = { li: li, bar: bar, stat: stat, cancel: cancel, last: 0 };
      this.list.appendChild(li);
      this.list.hidden = false;
    },
    update: function (job, sent, total) {
      var v = job.view, now = performance.now();
      // Repaint at most ~8 times a second per file.
      if (sent < total && now - v.last < 120) return;
      v.last = now;
      job.samples.push([now, sent]);
      while (job.samples.length > 2 && now - job.samples[0][0] > 3000) job.samples.shift();
      var first = job.samples[0];
      var secs = (now - first[0]) / 1000;
      // Speed over the last few seconds, so a stall shows quickly.
      var speed = secs > 0.2 ? (sent - first[1]) / secs : 0;
      var pct = total > 0 ? Math.floor((sent / total) * 100) : 0;
      v.bar.value = pct;
      var parts = [pct + '%', humanSize(sent) + ' of ' + humanSize(total)];
      if (speed > 0) {
        parts.push(humanSize(speed) + '/s');
        var left = humanDuration((total - sent) / speed);
        if (left && sent < total) parts.push(left + ' left');
      }
      if (job.note) parts.push(job.note);
      if (sent >= total && total > 0) parts = ['100%', 'finishing…'];
      v.stat.textContent = parts.join(' · ');
    },
    finish: function (job, message) {
      var v = job.view;
      v.li.className = job.state;
      v.cancel.hidden = true;
      if (job.state === 'done') {
        v.bar.value = 100;
        var secs = (performance.now() - job.start) / 1000;
        v.stat.textContent = 'uploaded · ' + humanSize(job.file.size) + (secs > 1 ? ' in ' + humanDuration(secs) : '');
      } else {
        v.stat.textContent = (job.state === 'failed' ? 'failed: ' : '') + message;
      }
    },
    // drop removes the cards of finished jobs that keep(job) does not keep.
    drop: function (keep) {
      queue.jobs = queue.jobs.filter(function (j) {
        if (j.state === 'queued' || j.state === 'sending' || keep(j)) return true;
        j.view.li.remove();
        return false;
      });
      var finished = queue.jobs.some(function (j) { return j.state !== 'queued' && j.state !== 'sending'; });
      if (!finished && this.clear) {
        this.clear.remove();
        this.clear = null;
      }
      if (!queue.jobs.length) this.list.hidden = true;
    },
    settled: function () {
      if (!this.list || this.list.hidden) return;
      var self = this;
      if (!this.clear) {
        var li = el('li', 'u-clear-row');
        var b = el('button', 'btn u-clear', 'Clear finished uploads');
        b.type = 'button';
        b.addEventListener('click', function () { self.drop(function () { return false; }); });
        li.appendChild(b);
        this.clear = li;
      }
      this.list.appendChild(this.clear);
      clearTimeout(this.doneTimer);
      this.doneTimer = setTimeout(function () {
        self.drop(function (j) { return j.state === 'failed'; });
      }, CLEAR_DONE_MS);
      var failed = queue.jobs.filter(function (j) { return j.state === 'failed' && !j.reported; });
      failed.forEach(function (j) { j.reported = true; });
      failed = failed.length;
      if (failed) toast(failed + (failed === 1 ? ' upload' : ' uploads') + ' failed; see the list for why.', true);
    }
  };

  // Files the OS drops into folders and nobody means to share.
  var JUNK = /^(\.DS_Store|Thumbs\.db|desktop\.ini)$/i;

  // collectDrop turns a drop into [{file, path}], walking dropped folders
  // (webkitGetAsEntry) so their files keep their relative paths; it also
  // returns the folders that held nothing, so they can be created too.
  function collectDrop(dt) {
    var entries = [], loose = [];
    // Entries must be taken synchronously: the DataTransfer is emptied once
    // the drop handler returns.
    if (dt.items && dt.items.length && dt.items[0].webkitGetAsEntry) {
      Array.prototype.forEach.call(dt.items, function (it) {
        if (it.kind !== 'file') return;
        var en = it.webkitGetAsEntry();
        if (en) entries.push(en);
        else { var f = it.getAsFile(); if (f) loose.push({ file: f, path: f.name }); }
      });
    } else {
      Array.prototype.forEach.call(dt.files || [], function (f) { loose.push({ file: f, path: f.name }); });
    }
    var out = { files: loose, emptyDirs: [] };
    return entries.reduce(function (p, en) {
      return p.then(function () { return walk(en, '', out); });
    }, Promise.resolve()).then(function () { return out; });
  }

  function readAll(reader) {
    // readEntries returns at most ~100 entries per call; call until empty.
    return new Promise(function (resolve, reject) {
      var all = [];
      (function next() {
        reader.readEntries(function (batch) {
          if (!batch.length) resolve(all);
          else { all = all.concat(Array.prototype.slice.call(batch)); next(); }
        }, reject);
      })();
    });
  }

  function walk(entry, prefix, out) {
    if (entry.isFile) {
      return new Promise(function (resolve) {
        entry.file(function (f) { out.files.push({ file: f, path: prefix + entry.name }); resolve(); },
          function () { resolve(); });
      });
    }
    if (!entry.isDirectory) return Promise.resolve();
    var dir = prefix + entry.name;
    return readAll(entry.createReader()).then(function (kids) {
      if (!kids.length) out.emptyDirs.push(dir);
      return kids.reduce(function (p, k) {
        return p.then(function () { return walk(k, dir + '/', out); });
      }, Promise.resolve());
    }, function () { /* unreadable folder: skip it */ });
  }

  // makeDirs creates empty dropped folders (and their parents, which may not
  // exist yet because uploads create parents only for files) with MKCOL.
  // "Already exists" answers are fine here.
  function makeDirs(dirs) {
    var all = [];
    dirs.forEach(function (d) {
      var parts = d.split('/');
      for (var i = 1; i <= parts.length; i++) {
        var p = parts.slice(0, i).join('/');
        if (all.indexOf(p) === -1) all.push(p);
      }
    });
    return all.reduce(function (p, d) {
      return p.then(function () {
        return request('MKCOL', folderURL + encodePath(d) + '/').then(function (res) {
          if (!res.ok && res.status !== 405 && res.status !== 409) {
            toast('Could not create folder "' + d + '": ' + explain(res.status, res.text), true);
          }
          return res.ok;
        });
      });
    }, Promise.resolve());
  }

  function startUpload(items, emptyDirs) {
    items = items.filter(function (it) { return !JUNK.test(it.path.split('/').pop()); });
    var dirs = emptyDirs || [];
    if (!items.length && !dirs.length) return;
    existing(items).then(function (clash) {
      if (clash.length && !confirm(replaceQuestion(clash))) {
        toast('Nothing uploaded: no file was replaced.');
        return;
      }
      makeDirs(dirs).then(function () {
        if (items.length) queue.add(items);
        else refresh();
      });
    });
  }

  // existing resolves with the relative paths of items that name files the
  // folder already holds. Only with --overwrite does an upload replace one
  // (otherwise the server refuses with 409, and the card says so), so only
  // then is it looked up: this folder from its rows, subfolders that exist
  // from their JSON listings, a bounded number of them.
  function existing(items) {
    if (!can.overwrite) return Promise.resolve([]);
    var here = {}, folders = {};
    entryRows().forEach(function (r) {
      if (r.dataset.dir === '1') folders[r.dataset.name] = true;
      else here[r.dataset.name] = true;
    });
    var clash = [], byDir = {}, dirList = [];
    items.forEach(function (it) {
      var slash = it.path.lastIndexOf('/');
      if (slash === -1) {
        if (here[it.path]) clash.push(it.path);
        return;
      }
      var dir = it.path.slice(0, slash);
      if (!folders[dir.split('/')[0]]) return; // a new folder holds nothing yet
      if (!byDir[dir]) { byDir[dir] = []; dirList.push(dir); }
      byDir[dir].push(it.path.slice(slash + 1));
    });
    var MAX_LOOKUPS = 100;
    return dirList.slice(0, MAX_LOOKUPS).reduce(function (p, dir) {
      return p.then(function () {
        return fetch(folderURL + encodePath(dir) + '/?format=json', { credentials: 'same-origin', cache: 'no-store' })
          .then(function (res) { return res.ok ? res.json() : { entries: [] }; })
          .then(function (doc) {
            var names = {};
            (doc.entries || []).forEach(function (e) { if (e.type === 'file') names[e.name] = true; });
            byDir[dir].forEach(function (n) { if (names[n]) clash.push(dir + '/' + n); });
          }, function () { /* unknown: the upload will tell */ });
      });
    }, Promise.resolve()).then(function () {
      // Past the bound, say that more may be replaced rather than look.
      if (dirList.length > MAX_LOOKUPS) clash.push('(and maybe more in ' + (dirList.length - MAX_LOOKUPS) + ' other folders)');
      return clash;
    });
  }

  function replaceQuestion(clash) {
    if (clash.length === 1) return '"' + clash[0] + '" already exists here.\nReplace it? Cancel uploads nothing.';
    var shown = clash.slice(0, 8).map(function (n) { return '  ' + n; }).join('\n');
    if (clash.length > 8) shown += '\n  … and ' + (clash.length - 8) + ' more';
    return clash.length + ' files already exist here:\n' + shown + '\nReplace them? Cancel uploads nothing.';
  }

  function hasFiles(e) {
    var types = e.dataTransfer && e.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, 'Files') !== -1;
  }

  function initUploads() {
    var form = $('#upload-form');
    var drop = $('#drop');
    if (!form || !view.list) return;
    var input = form.elements.file;
    // Without this script the picker is a plain file input beside an Upload
    // button; with it, one button that starts uploads on its own.
    $('.picker', form).classList.add('btn', 'primary');

    // Choosing files starts the upload at once; the submit button is only
    // for browsers without this script.
    input.addEventListener('change', function () {
      startUpload(Array.prototype.map.call(input.files, function (f) { return { file: f, path: f.name }; }));
      input.value = '';
    });
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      input.click();
    });

    // A second picker for whole folders, where the browser supports it.
    var probe = document.createElement('input');
    if ('webkitdirectory' in probe) {
      var dirInput = el('input');
      dirInput.type = 'file';
      dirInput.webkitdirectory = true;
      dirInput.multiple = true;
      dirInput.hidden = true;
      var dirBtn = el('button', 'btn folder-pick', 'Upload folder');
      dirBtn.type = 'button';
      dirBtn.addEventListener('click', function () { dirInput.click(); });
      dirInput.addEventListener('change', function () {
        startUpload(Array.prototype.map.call(dirInput.files, function (f) {
          return { file: f, path: f.webkitRelativePath || f.name };
        }));
        dirInput.value = '';
      });
      var picker = $('.picker', form);
      picker.parentNode.insertBefore(dirBtn, picker.nextSibling);
      form.appendChild(dirInput);
    }

    // Drag and drop anywhere on the page. dragenter/dragleave fire for every
    // child element, so count them to know when the pointer left the window.
    var depth = 0;
    document.addEventListener('dragenter', function (e) {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth++;
      drop.hidden = false;
    });
    document.addEventListener('dragover', function (e) {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    });
    document.addEventListener('dragleave', function (e) {
      if (!hasFiles(e)) return;
      if (--depth <= 0) { depth = 0; drop.hidden = true; }
    });
    document.addEventListener('drop', function (e) {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      drop.hidden = true;
      collectDrop(e.dataTransfer).then(function (got) { startUpload(got.files, got.emptyDirs); });
    });

    // Leaving the page aborts uploads in flight: say so first.
    window.addEventListener('beforeunload', function (e) {
      if (queue.active > 0) { e.preventDefault(); e.returnValue = ''; }
    });
  }

  // ------------------------------------------------------------------ start

  filter.init();
  if (can.move || can.del) $('#listing').addEventListener('click', onRowAction);
  localizeHeader();
  enhanceRows();
  initQR();
  if (can.upload) {
    initMkdir();
    initUploads();
  }
})();
