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
    overwrite: body.dataset.canOverwrite === '1',
    archive: body.dataset.canArchive === '1',
    share: body.dataset.canShare === '1',
    thumbs: body.dataset.thumbs === '1'
  };
  // Editing a text file replaces it: it needs both.
  can.edit = can.upload && can.overwrite;
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

  // localizeRow rewrites a row's time once. An entry row's time cell holds
  // it as text, in UTC ("2024-03-05 14:07", as the column header says); a
  // search hit's <time> keeps the UTC value in datetime.
  function localizeRow(row) {
    var t = row.querySelector('time') || row.querySelector('td.t');
    if (!t || t.dataset.local || !t.textContent) return;
    var d = new Date(t.dateTime || t.textContent.trim().replace(' ', 'T') + 'Z');
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

  // announce says something to screen readers through the page's polite
  // live region (#live), without showing it. The region is emptied first,
  // so the same words twice are read twice.
  var liveTimer = 0;
  function announce(message) {
    var live = $('#live');
    if (!live) return;
    live.textContent = '';
    clearTimeout(liveTimer);
    liveTimer = setTimeout(function () { live.textContent = message; }, 60);
  }

  // ----------------------------------------------------------------- rows

  function tbody() { return $('#listing tbody'); }

  // The server writes entry rows as small as a page without script can
  // read them (listing/html.go, writeRows): cells without classes, the kind
  // as one letter, the name only in the link, the exact size in data-b.
  // hydrate gives each such row what the rest of this script reads:
  // data-name, data-dir, data-kind, the cell classes n, s and t, and
  // data-bytes. Other rows (the parent, "empty", a search's hits) are left.
  var KIND_BY_CLASS = { d: 'folder', i: 'image', v: 'video', m: 'audio', z: 'archive', c: 'code', x: 'text', p: 'pdf' };
  function hydrate() {
    var rows = tbody().rows;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      if (r.dataset.name != null) continue;
      var c = r.className;
      if (c && !Object.prototype.hasOwnProperty.call(KIND_BY_CLASS, c)) continue;
      var cells = r.cells, a = cells.length === 3 && cells[0].firstElementChild;
      if (!a || a.tagName !== 'A') continue;
      var dir = c === 'd', name = a.textContent;
      r.dataset.name = dir ? name.slice(0, -1) : name;
      r.dataset.kind = KIND_BY_CLASS[c] || 'file';
      if (dir) r.dataset.dir = '1';
      cells[0].className = 'n';
      cells[1].className = 's';
      cells[2].className = 't';
      var b = cells[1].getAttribute('data-b');
      if (b != null) {
        cells[1].dataset.bytes = b;
        cells[1].title = b + ' bytes';
      }
    }
  }

  // entryRows are the rows that stand for entries (not "../", not "empty").
  function entryRows() {
    return Array.prototype.filter.call(tbody().rows, function (r) { return r.dataset.name != null; });
  }

  function entryURL(row) { return $('td.n a', row).href; }

  // refresh re-reads this page and swaps in its table body, so new and
  // removed entries show with the server's own rendering and sort order.
  //
  // focusName, when given, is the entry whose row gets the focus afterwards
  // (a renamed file under its new name); otherwise a focused row keeps it
  // if it is still there, so the keyboard never drops back to the top.
  function refresh(focusName) {
    // What has the focus is looked at when the rows are swapped, not now:
    // it may move meanwhile (a dialog closing onto its row).
    var at = document.activeElement, from = at && at.closest && at.closest('#listing tr[data-name]');
    var sel = from ? focusSelector(at, from) : 'td.n a';
    return fetch(location.href, { headers: { Accept: 'text/html' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fresh = $('#listing tbody', doc);
        if (!fresh) throw new Error('no listing');
        var active = document.activeElement, keep = null;
        var row = active && active.closest && active.closest('#listing tr[data-name]');
        if (row) keep = { name: row.dataset.name, sel: focusSelector(active, row) };
        if (focusName != null) keep = { name: focusName, sel: keep ? keep.sel : sel };
        // Chosen rows stay chosen (those still there).
        selection.kept = {};
        selection.chosen().forEach(function (r) { selection.kept[r.dataset.name] = true; });
        tbody().replaceWith(document.adoptNode(fresh));
        var sum = $('#summary', doc);
        if (sum && $('#summary')) $('#summary').textContent = sum.textContent;
        enhanceRows();
        if (keep) {
          var r = rowByName(keep.name);
          var target = r && (r.querySelector(keep.sel) || r.querySelector('td.n a'));
          if (target) target.focus();
        }
      })
      .catch(function () { location.reload(); });
  }

  function rowByName(name) {
    return entryRows().find(function (r) { return r.dataset.name === name; }) || null;
  }

  // focusSelector finds the focused control again in a row drawn anew.
  function focusSelector(active, row) {
    if (active.dataset && active.dataset.act) return 'button[data-act="' + active.dataset.act + '"]';
    if (active.matches && active.matches('td.sel input')) return 'td.sel input';
    return 'td.n a';
  }

  // focusAfterRemoval puts the focus where a removed row was: on the next
  // row, or the one before, or the list itself.
  function focusAfterRemoval(rows) {
    var all = Array.prototype.slice.call(tbody().rows);
    var idx = all.indexOf(rows[rows.length - 1]);
    var pick = null;
    for (var i = idx + 1; i < all.length && !pick; i++) {
      if (all[i].dataset.name != null && !all[i].hidden && rows.indexOf(all[i]) === -1) pick = all[i];
    }
    for (var j = all.indexOf(rows[0]) - 1; j >= 0 && !pick; j--) {
      if (all[j].dataset.name != null && !all[j].hidden && rows.indexOf(all[j]) === -1) pick = all[j];
    }
    var a = pick ? $('td.n a', pick) : ($('#listing tr.parent a') || $('#main'));
    if (a) a.focus();
    return pick ? pick.dataset.name : null;
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
      this.say(q, raw, shown);
    },
    // say tells screen readers how many entries the filter leaves, once
    // typing pauses.
    said: '',
    sayTimer: 0,
    say: function (q, raw, shown) {
      if (q === this.said) return;
      var was = this.said;
      this.said = q;
      clearTimeout(this.sayTimer);
      var n = this.rows.length, msg;
      if (!q) msg = was ? 'Filter cleared: all ' + n + ' entries shown' : '';
      else if (!shown) msg = 'No matches for “' + raw + '”';
      else msg = shown + ' of ' + n + (n === 1 ? ' entry' : ' entries') + ' shown';
      if (msg) this.sayTimer = setTimeout(function () { announce(msg); }, 400);
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

  function iconButton(act, label, name) {
    var b = el('button', 'icon-btn ' + act);
    b.type = 'button';
    b.dataset.act = act;
    b.title = label;
    b.setAttribute('aria-label', label + ' ' + name);
    return b;
  }

  function actionCell(row) {
    var name = row.dataset.name;
    var td = el('td', 'a');
    if (can.edit && editable(row)) td.appendChild(iconButton('edit', 'Edit', name));
    if (can.share) td.appendChild(iconButton('share', 'Share', name));
    if (can.move) td.appendChild(iconButton('rename', 'Rename', name));
    if (can.del) td.appendChild(iconButton('delete', 'Delete', name));
    return td;
  }

  function selectCell(row) {
    var td = el('td', 'sel');
    var box = el('input');
    box.type = 'checkbox';
    box.checked = !!selection.kept[row.dataset.name];
    box.setAttribute('aria-label', 'Select ' + row.dataset.name);
    td.appendChild(box);
    return td;
  }

  // enhanceRows shows times in local time, adds the selection boxes and
  // the action cells (in slices, so 100,000 rows do not freeze the page),
  // re-indexes the filter and, in the grid, adds thumbnails.
  function enhanceRows() {
    hydrate();
    filter.index();
    var actions = can.move || can.del || can.share || can.edit;
    var select = selection.enabled();
    var head = $('#listing thead tr');
    if (select && head && !$('th.sel', head)) {
      var sh = el('th', 'sel');
      sh.setAttribute('scope', 'col');
      var all = el('input');
      all.type = 'checkbox';
      all.id = 'sel-all';
      all.setAttribute('aria-label', 'Select all entries');
      sh.appendChild(all);
      head.insertBefore(sh, head.firstChild);
    }
    if (actions && head && !$('th.a', head)) {
      var th = el('th', 'a');
      th.appendChild(el('span', 'visually-hidden', 'Actions'));
      th.setAttribute('scope', 'col');
      head.appendChild(th);
    }
    var cols = head ? head.cells.length : 3;
    Array.prototype.forEach.call(tbody().rows, function (r) {
      if (r.dataset.name != null) return;
      if (r.classList.contains('empty')) { r.cells[0].colSpan = cols; return; }
      if (select && !r.querySelector('td.sel')) r.insertBefore(el('td', 'sel'), r.firstChild);
      if (actions && !r.querySelector('td.a')) r.appendChild(el('td', 'a'));
    });
    var rows = entryRows(), i = 0;
    (function slice() {
      var end = Math.min(i + 2000, rows.length);
      for (; i < end; i++) {
        var row = rows[i];
        localizeRow(row);
        if (select && !row.querySelector('td.sel')) row.insertBefore(selectCell(row), row.firstChild);
        if (actions && !row.querySelector('td.a')) row.appendChild(actionCell(row));
        if (grid.on) grid.decorate(row);
      }
      if (i < rows.length) setTimeout(slice, 0);
      else { selection.kept = {}; selection.update(); }
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
    switch (btn.dataset.act) {
      case 'delete': remove(row); break;
      case 'rename': rename(row); break;
      case 'edit': editor.open(row, btn); break;
      case 'share': sharer.open(row, btn); break;
    }
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
        focusAfterRemoval([row]);
        row.remove();
        filter.index();
        selection.update();
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
        refresh(next);
      } else {
        toast('Could not rename "' + name + '": ' + explain(res.status, res.text, {
          412: '"' + next + '" already exists',
          409: 'the target folder does not exist'
        }), true);
      }
    });
  }

  // ------------------------------------------------------------ file types
  //
  // What the viewer can show, by extension: what browsers display without
  // a plug-in. The server's data-kind drives the icons; this is finer.

  var VIEWABLE = (function () {
    var m = {};
    function add(kind, exts) { exts.split(' ').forEach(function (e) { m[e] = kind; }); }
    add('image', 'jpg jpeg jpe jfif png gif webp svg avif bmp ico apng');
    add('video', 'mp4 m4v webm ogv mov');
    add('audio', 'mp3 m4a aac flac wav ogg oga opus weba');
    add('pdf', 'pdf');
    add('markdown', 'md markdown mdown mkd');
    add('text', 'txt text log csv tsv ini cfg conf env properties srt vtt nfo rst adoc asciidoc org tex diff patch ' +
      'go c h cc cpp cxx hh hpp cs java kt kts scala groovy gradle js mjs cjs ts tsx jsx vue svelte py pyw rb rs php ' +
      'pl pm lua r swift m mm dart zig nim ex exs erl hrl hs ml mli clj cljs elm sh bash zsh fish ps1 psm1 bat cmd ' +
      'sql html htm xhtml css scss sass less json jsonc json5 yaml yml toml xml xsl proto graphql gql tf hcl nix ' +
      'asm s mk cmake gitignore editorconfig');
    return m;
  })();
  var TEXT_NAMES = /^(readme|license|licence|copying|authors|changelog|notice|todo|makefile|dockerfile|containerfile|procfile|gemfile|rakefile|vagrantfile|jenkinsfile)$/i;
  // The server makes thumbnails of these; other images are small enough
  // to show themselves, or get their icon.
  var THUMBABLE = /\.(jpe?g|jpe|jfif|png|gif)$/i;
  var EDIT_MAX = 1 << 20;

  // hitPath is a search result's path below this folder ("" for other
  // rows): its link's text, "a/b.jpg", "a/sub/" for a folder.
  function hitPath(row) {
    if (!row || !row.classList.contains('hit')) return '';
    var a = $('td.n a', row);
    return a ? a.textContent : '';
  }

  // viewKind is how the viewer shows a row's file, '' when it does not.
  // A search's results open there too, with previous and next among them.
  function viewKind(row) {
    if (!row || row.dataset.dir === '1') return '';
    var name = row.dataset.name;
    if (name == null) {
      var p = hitPath(row);
      if (!p || p.slice(-1) === '/') return '';
      name = p.slice(p.lastIndexOf('/') + 1);
    }
    var dot = name.lastIndexOf('.');
    if (dot <= 0) return TEXT_NAMES.test(name) ? 'text' : '';
    return VIEWABLE[name.slice(dot + 1).toLowerCase()] || '';
  }

  function rowBytes(row) {
    var s = row.querySelector('td.s[data-bytes]');
    return s ? Number(s.dataset.bytes) : -1;
  }

  function editable(row) {
    var k = viewKind(row), n = rowBytes(row);
    return (k === 'text' || k === 'markdown') && n >= 0 && n <= EDIT_MAX;
  }

  // modal makes a <dialog> with a title bar: the page behind it is inert
  // while it is open (showModal), Escape and the close button close it,
  // unless opts.mayClose() says no, and opts.closed() then puts the focus
  // back, at once: the browser's own restoring would put it on what had it
  // when the dialog opened, which the viewer may have moved on from.
  function modal(cls, opts) {
    var d = el('dialog', 'modal ' + cls);
    d.id = cls;
    var bar = el('div', 'm-bar');
    var h = el('h2', 'm-title');
    h.id = cls + '-title';
    d.setAttribute('aria-labelledby', h.id);
    var tools = el('div', 'm-tools');
    var close = el('button', 'icon-btn cancel');
    close.type = 'button';
    close.title = 'Close';
    close.setAttribute('aria-label', 'Close');
    bar.appendChild(h);
    bar.appendChild(tools);
    bar.appendChild(close);
    var bodyEl = el('div', 'm-body');
    bodyEl.tabIndex = -1;
    d.appendChild(bar);
    d.appendChild(bodyEl);
    body.appendChild(d);
    var m = { dialog: d, title: h, tools: tools, body: bodyEl, close: close, returnTo: null };
    var done = false;
    function finish() {
      if (done) return;
      done = true;
      var t = opts.closed ? opts.closed() : null;
      if (!(t && document.contains(t))) t = m.returnTo;
      if (t && document.contains(t) && t.focus) t.focus();
    }
    m.shut = function () {
      if (!d.open || (opts.mayClose && !opts.mayClose())) return;
      d.close();
      finish();
    };
    m.show = function (returnTo) {
      m.returnTo = returnTo || document.activeElement;
      done = false;
      if (!d.open) d.showModal();
    };
    close.addEventListener('click', function () { m.shut(); });
    d.addEventListener('cancel', function (e) { e.preventDefault(); m.shut(); });
    // The close event comes a task after close(): by then the dialog may
    // be open again (Escape, then a click on the next file), and finishing
    // it would end what it now shows.
    d.addEventListener('close', function () { if (!d.open) finish(); });
    return m;
  }

  // ---------------------------------------------------------------- viewer
  //
  // Clicking a picture, a video, a song, a PDF or a text file opens it in
  // the page, with previous and next among the files shown (the filter and
  // the sort order apply). A click with a modifier key, or the middle
  // button, still opens the file itself.

  var TEXT_MAX = 512 << 10;

  var viewer = {
    m: null,
    row: null,
    loading: 0,
    items: function () {
      return Array.prototype.filter.call(tbody().rows, function (r) { return !r.hidden && viewKind(r); });
    },
    build: function () {
      if (this.m) return;
      var self = this, m = modal('viewer', {
        closed: function () {
          self.stop();
          var back = self.row && $('td.n a', self.row);
          self.row = null;
          return back;
        }
      });
      var pos = el('span', 'v-pos');
      var prev = el('button', 'btn v-prev', 'Previous');
      prev.type = 'button';
      prev.setAttribute('aria-keyshortcuts', 'ArrowLeft');
      var next = el('button', 'btn v-next', 'Next');
      next.type = 'button';
      next.setAttribute('aria-keyshortcuts', 'ArrowRight');
      var dl = el('a', 'btn v-dl', 'Download');
      var edit = el('button', 'btn v-edit', 'Edit');
      edit.type = 'button';
      edit.hidden = true;
      [pos, prev, next, dl, edit].forEach(function (n) { m.tools.appendChild(n); });
      prev.addEventListener('click', function () { self.step(-1); });
      next.addEventListener('click', function () { self.step(1); });
      edit.addEventListener('click', function () {
        var row = self.row;
        m.shut();
        editor.open(row, $('td.n a', row));
      });
      m.dialog.addEventListener('keydown', function (e) {
        if (e.altKey || e.ctrlKey || e.metaKey) return;
        var t = e.target;
        // Arrows belong to media controls and text areas while they have
        // the focus.
        if (t && /^(VIDEO|AUDIO|INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) return;
        if (e.key === 'ArrowLeft') { e.preventDefault(); self.step(-1); }
        if (e.key === 'ArrowRight') { e.preventDefault(); self.step(1); }
      });
      this.m = m;
      this.pos = pos;
      this.prev = prev;
      this.next = next;
      this.dl = dl;
      this.edit = edit;
    },
    open: function (row) {
      this.build();
      this.m.show();
      this.show(row);
      // The file itself has the focus, not a button: the Enter that
      // opened the viewer would otherwise press it too.
      this.m.body.focus();
    },
    step: function (d) {
      var items = this.items(), i = items.indexOf(this.row);
      if (i === -1 || !items.length) return;
      var next = items[(i + d + items.length) % items.length];
      if (next !== this.row) this.show(next);
    },
    // stop ends what the last file was doing (a video playing).
    stop: function () {
      var media = this.m && this.m.body.querySelector('video, audio');
      if (media) media.pause();
      // A picture still on its way is not wanted any more (the viewer
      // closed, or moved on): its request ends here rather than landing
      // after, say, the file was renamed.
      var img = this.m && this.m.body.querySelector('img.v-img');
      if (img && !img.complete) img.removeAttribute('src');
      this.loading++;
    },
    show: function (row) {
      this.stop();
      this.row = row;
      var m = this.m, url = entryURL(row), kind = viewKind(row);
      var title = row.dataset.name != null ? row.dataset.name : hitPath(row);
      var name = title.slice(title.lastIndexOf('/') + 1);
      var items = this.items(), i = items.indexOf(row);
      m.title.textContent = title;
      this.pos.textContent = (i + 1) + ' of ' + items.length;
      this.prev.disabled = this.next.disabled = items.length < 2;
      this.dl.href = url;
      this.dl.setAttribute('download', name);
      this.dl.setAttribute('aria-label', 'Download ' + name);
      // The editor saves by the row's name in this folder: a search's
      // result, elsewhere below, is edited from its own folder.
      this.edit.hidden = !(can.edit && row.dataset.name != null && editable(row));
      m.body.replaceChildren();
      m.body.className = 'm-body v-' + kind;
      var node;
      switch (kind) {
        case 'image':
          node = el('img', 'v-img');
          node.alt = name;
          node.src = url;
          break;
        case 'video':
        case 'audio':
          node = el(kind, 'v-media');
          node.controls = true;
          node.preload = 'metadata';
          node.src = url;
          node.setAttribute('aria-label', name);
          break;
        case 'pdf':
          node = el('iframe', 'v-pdf');
          node.title = name;
          node.src = url;
          break;
        case 'markdown':
          this.loadMarkdown(url);
          break;
        default:
          this.loadText(url);
      }
      if (node) m.body.appendChild(node);
      announce((i + 1) + ' of ' + items.length + ': ' + name);
    },
    placeholder: function (text) {
      var p = el('p', 'v-note', text);
      this.m.body.replaceChildren(p);
      return p;
    },
    loadText: function (url) {
      var self = this, ticket = this.loading;
      this.placeholder('Loading…');
      // A range keeps a huge log from coming over whole, and is never
      // compressed, so the length is the file's.
      fetch(url, { headers: { Range: 'bytes=0-' + (TEXT_MAX - 1) }, credentials: 'same-origin', cache: 'no-store' })
        .then(function (res) {
          if (!res.ok) throw new Error(explain(res.status, ''));
          var total = -1, cr = res.headers.get('Content-Range');
          if (cr && cr.indexOf('/') !== -1) total = Number(cr.split('/')[1]);
          return res.arrayBuffer().then(function (buf) { return { buf: buf, total: total }; });
        })
        .then(function (got) {
          if (ticket !== self.loading) return;
          var pre = el('pre', 'v-text');
          pre.tabIndex = 0;
          pre.textContent = new TextDecoder('utf-8').decode(got.buf);
          pre.setAttribute('aria-label', 'Contents of ' + self.m.title.textContent);
          self.m.body.replaceChildren(pre);
          if (got.total > got.buf.byteLength) {
            self.m.body.appendChild(el('p', 'v-note', 'Showing the first ' + humanSize(got.buf.byteLength) +
              ' of ' + humanSize(got.total) + '; download the file for the rest.'));
          }
        })
        .catch(function (err) {
          if (ticket === self.loading) self.placeholder('Could not show the file: ' + err.message);
        });
    },
    loadMarkdown: function (url) {
      var self = this, ticket = this.loading;
      this.placeholder('Loading…');
      fetch(url + '?preview', { credentials: 'same-origin', cache: 'no-store' })
        .then(function (res) {
          if (res.status === 422 || res.status === 415) return null; // too large: as text
          if (!res.ok) throw new Error(explain(res.status, ''));
          return res.text();
        })
        .then(function (html) {
          if (ticket !== self.loading) return;
          if (html == null) { self.loadText(url); return; }
          // The server rendered it with raw HTML removed; the page's
          // Content-Security-Policy stops anything that would still run.
          var div = el('div', 'md v-md');
          div.tabIndex = 0;
          div.innerHTML = html;
          self.m.body.replaceChildren(div);
        })
        .catch(function (err) {
          if (ticket === self.loading) self.placeholder('Could not show the file: ' + err.message);
        });
    }
  };

  function onNameClick(e) {
    var a = e.target.closest && e.target.closest('td.n a');
    if (!a || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    var row = a.closest('tr');
    if (!viewKind(row)) return;
    e.preventDefault();
    viewer.open(row);
  }

  // ------------------------------------------------------------------ grid
  //
  // The grid shows the same rows as cards (the table restyled, so the
  // filter, the selection and the buttons work alike), with a thumbnail for
  // each picture. The choice is remembered in this browser.

  var grid = {
    on: false,
    buttons: null,
    init: function () {
      var bar = $('.toolbar');
      if (!bar) return;
      var self = this;
      var group = el('div', 'views');
      group.setAttribute('role', 'group');
      group.setAttribute('aria-label', 'View');
      var list = el('button', 'btn view-list', 'List');
      var cards = el('button', 'btn view-grid', 'Grid');
      [list, cards].forEach(function (b) { b.type = 'button'; group.appendChild(b); });
      list.addEventListener('click', function () { self.set(false); });
      cards.addEventListener('click', function () { self.set(true); });
      var wrap = $('#filter-wrap');
      bar.insertBefore(group, wrap ? wrap.nextSibling : bar.firstChild);
      this.buttons = { list: list, grid: cards };
      var saved = '';
      try { saved = localStorage.getItem('ferry.view') || ''; } catch (e) { /* private mode */ }
      this.set(saved === 'grid' || /(^|[?&])view=grid(&|$)/.test(location.search), true);
    },
    set: function (on, quiet) {
      this.on = on;
      body.classList.toggle('grid', on);
      this.buttons.list.setAttribute('aria-pressed', String(!on));
      this.buttons.grid.setAttribute('aria-pressed', String(on));
      try { localStorage.setItem('ferry.view', on ? 'grid' : 'list'); } catch (e) { /* private mode */ }
      // A search's results are pictures too, wherever they are below.
      if (on) Array.prototype.forEach.call(tbody().rows, function (r) {
        if (r.dataset.name != null || hitPath(r)) grid.decorate(r);
      });
      if (!quiet) announce(on ? 'Grid view' : 'List view');
    },
    // decorate gives a picture's card its thumbnail, once.
    decorate: function (row) {
      if (row.dataset.kind !== 'image' || row.classList.contains('has-thumb')) return;
      var name = row.dataset.name != null ? row.dataset.name : hitPath(row), src;
      if (can.thumbs && THUMBABLE.test(name)) src = entryURL(row) + '?thumb';
      else if (!THUMBABLE.test(name) && viewKind(row) === 'image' && rowBytes(row) <= (1 << 20)) src = entryURL(row);
      if (!src) return;
      var img = el('img', 'thumb');
      img.alt = '';
      img.loading = 'lazy';
      img.decoding = 'async';
      img.src = src;
      img.addEventListener('error', function () { img.remove(); row.classList.remove('has-thumb'); });
      var a = $('td.n a', row);
      a.insertBefore(img, a.firstChild);
      row.classList.add('has-thumb');
    }
  };

  // ------------------------------------------------------------- selection
  //
  // Boxes in front of the rows choose several entries at once: to download
  // them as one zip (a GET of ?zip with their names, streamed by the server
  // like a folder's), and, where the server allows, to move or delete them.

  var selection = {
    bar: null,
    kept: {}, // names chosen before the rows were drawn anew
    // A search's results carry no boxes (their actions act on names of
    // this folder), so a box to select them all would select nothing.
    enabled: function () { return !body.dataset.search && (can.archive || can.del || can.move); },
    chosen: function () {
      return entryRows().filter(function (r) {
        var b = r.querySelector('td.sel input');
        return b && b.checked;
      });
    },
    init: function () {
      if (!this.enabled()) return;
      var self = this;
      var bar = el('div', 'selbar');
      bar.id = 'selbar';
      bar.setAttribute('role', 'region');
      bar.setAttribute('aria-label', 'Selected entries');
      bar.hidden = true;
      var count = el('span', 'sel-count');
      bar.appendChild(count);
      function add(label, cls, fn, when) {
        if (!when) return;
        var b = el('button', 'btn ' + cls, label);
        b.type = 'button';
        b.addEventListener('click', fn);
        bar.appendChild(b);
      }
      add('Download .zip', 'sel-zip', function () { self.zip(); }, can.archive);
      add('Move…', 'sel-move', function () { self.move(); }, can.move);
      add('Delete', 'sel-delete', function () { self.remove(); }, can.del);
      add('Clear selection', 'sel-clear', function () { self.clear(); }, true);
      var table = $('#listing');
      table.parentNode.insertBefore(bar, table);
      this.bar = bar;
      this.count = count;
      $('#listing').addEventListener('change', function (e) {
        var t = e.target;
        if (t.id === 'sel-all') {
          entryRows().forEach(function (r) {
            var b = r.querySelector('td.sel input');
            if (b && !r.hidden) b.checked = t.checked;
          });
        }
        if (t.closest && t.closest('th.sel, td.sel')) self.update(true);
      });
    },
    update: function (speak) {
      if (!this.bar) return;
      var rows = entryRows(), n = 0, shown = 0;
      rows.forEach(function (r) {
        var b = r.querySelector('td.sel input');
        if (!b) return;
        r.classList.toggle('selected', b.checked);
        if (b.checked) n++;
        if (!r.hidden) shown++;
      });
      var all = $('#sel-all');
      if (all) {
        all.checked = n > 0 && n >= shown;
        all.indeterminate = n > 0 && n < shown;
      }
      this.bar.hidden = n === 0;
      var text = n === 1 ? '1 selected' : n + ' selected';
      this.count.textContent = text;
      if (speak) announce(text);
    },
    clear: function () {
      entryRows().forEach(function (r) {
        var b = r.querySelector('td.sel input');
        if (b) b.checked = false;
      });
      this.update(true);
      var all = $('#sel-all');
      if (all) all.focus();
    },
    zip: function () {
      var rows = this.chosen();
      if (!rows.length) return;
      var q = 'zip=' + rows.map(function (r) { return '&name=' + encodeURIComponent(r.dataset.name); }).join('');
      location.assign(folderURL + '?' + q);
    },
    move: function () {
      var rows = this.chosen(), self = this;
      if (!rows.length) return;
      var what = rows.length === 1 ? '"' + rows[0].dataset.name + '"' : rows.length + ' entries';
      var to = prompt('Move ' + what + ' into which folder?\nA path from this folder (sub, ../other) or from the top (/photos):', '');
      if (to == null) return;
      to = to.trim();
      if (!to) { toast('Not moved: no folder given.', true); return; }
      var target = new URL(encodePath(to.replace(/\/+$/, '')) + '/', to.charAt(0) === '/' ? new URL(upToRoot(), folderURL) : folderURL);
      this.each(rows, function (r) {
        var dest = new URL(encodeURIComponent(r.dataset.name) + (r.dataset.dir === '1' ? '/' : ''), target).href;
        return request('MOVE', entryURL(r), { Destination: dest, Overwrite: 'F' });
      }, 'moved', {
        412: 'a file of that name is already there',
        409: 'that folder does not exist'
      });
    },
    remove: function () {
      var rows = this.chosen();
      if (!rows.length) return;
      var dirs = rows.filter(function (r) { return r.dataset.dir === '1'; }).length;
      var names = rows.slice(0, 10).map(function (r) { return '  ' + r.dataset.name + (r.dataset.dir === '1' ? '/' : ''); }).join('\n');
      if (rows.length > 10) names += '\n  … and ' + (rows.length - 10) + ' more';
      var q = 'Delete ' + (rows.length === 1 ? 'this entry' : 'these ' + rows.length + ' entries') + '?\n' + names + '\nThis cannot be undone.';
      if (dirs) {
        var typed = prompt(q + '\nFolders go with EVERYTHING inside them. Type delete to confirm:');
        if (typed == null) return;
        if (typed.trim().toLowerCase() !== 'delete') { toast('Nothing deleted: the word did not match.', true); return; }
      } else if (!confirm(q)) {
        return;
      }
      this.each(rows, function (r) { return request('DELETE', entryURL(r)); }, 'deleted');
    },
    // each runs one request per row, one after the other, then says what
    // happened and shows the folder as it is now.
    each: function (rows, send, verb, special) {
      var failed = [], done = 0;
      focusAfterRemoval(rows);
      rows.reduce(function (p, r) {
        return p.then(function () {
          return send(r).then(function (res) {
            if (res.ok) done++;
            else failed.push('"' + r.dataset.name + '": ' + explain(res.status, res.text, special));
          });
        });
      }, Promise.resolve()).then(function () {
        var msg = done + (done === 1 ? ' entry ' : ' entries ') + verb;
        if (failed.length) toast(msg + '; ' + failed.length + ' failed: ' + failed.slice(0, 3).join('; ') + (failed.length > 3 ? '…' : ''), true);
        else toast(msg);
        refresh();
      });
    }
  };

  // upToRoot is the relative URL of the top of the share from this folder.
  function upToRoot() {
    var depth = (body.dataset.path || '/').split('/').length - 2;
    return depth > 0 ? new Array(depth + 1).join('../') : './';
  }

  // ---------------------------------------------------------------- editor
  //
  // A text file of up to 1 MiB opens in a text area and is saved with PUT
  // and If-Match: the ETag it had when it was opened. Had anyone changed it
  // since, the server answers 412 and stores nothing; the text stays here.

  var editor = {
    m: null,
    row: null,
    etag: '',
    crlf: false,
    saved: '',
    build: function () {
      if (this.m) return;
      var self = this, m = modal('editor', {
        mayClose: function () { return !self.dirty() || confirm('Close without saving your changes?'); },
        closed: function () {
          var back = self.row && rowByName(self.row.dataset.name);
          self.row = null;
          return back && (back.querySelector('button[data-act=edit]') || $('td.n a', back));
        }
      });
      var state = el('span', 'e-state');
      state.setAttribute('role', 'status');
      var reload = el('button', 'btn e-reload', 'Reload');
      reload.type = 'button';
      reload.hidden = true;
      var save = el('button', 'btn primary e-save', 'Save');
      save.type = 'button';
      save.setAttribute('aria-keyshortcuts', 'Control+S');
      [state, reload, save].forEach(function (n) { m.tools.appendChild(n); });
      var text = el('textarea', 'e-text');
      text.spellcheck = false;
      text.setAttribute('autocomplete', 'off');
      m.body.appendChild(text);
      save.addEventListener('click', function () { self.save(); });
      reload.addEventListener('click', function () {
        if (self.dirty() && !confirm('Discard your changes and load the file as it is now?')) return;
        self.load();
      });
      text.addEventListener('input', function () { self.mark(); });
      m.dialog.addEventListener('keydown', function (e) {
        if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === 's' || e.key === 'S')) {
          e.preventDefault();
          self.save();
        }
      });
      this.m = m;
      this.state = state;
      this.text = text;
      this.saveBtn = save;
      this.reloadBtn = reload;
    },
    dirty: function () { return !!this.row && this.text.value !== this.saved; },
    mark: function () { this.say(this.dirty() ? 'Unsaved changes' : '', false); },
    say: function (msg, bad) {
      this.state.textContent = msg;
      this.state.classList.toggle('bad', !!bad);
    },
    open: function (row, from) {
      this.build();
      this.row = row;
      this.m.title.textContent = 'Editing ' + row.dataset.name;
      this.text.setAttribute('aria-label', 'Contents of ' + row.dataset.name);
      this.m.show(from);
      this.load();
    },
    load: function () {
      var self = this, row = this.row;
      this.text.value = '';
      this.saved = '';
      this.text.disabled = true;
      this.saveBtn.disabled = true;
      this.reloadBtn.hidden = true;
      this.say('Loading…');
      // A range request is never compressed, so the ETag is the file's
      // own, the one PUT compares If-Match with.
      fetch(entryURL(row), { headers: { Range: 'bytes=0-' + (EDIT_MAX - 1) }, credentials: 'same-origin', cache: 'no-store' })
        .then(function (res) {
          if (!res.ok) throw new Error(explain(res.status, ''));
          var cr = res.headers.get('Content-Range');
          if (cr && Number(cr.split('/')[1]) > EDIT_MAX) throw new Error('the file is larger than 1 MiB');
          self.etag = res.headers.get('ETag') || '';
          return res.arrayBuffer();
        })
        .then(function (buf) {
          if (self.row !== row) return;
          var text;
          try {
            text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf);
          } catch (e) {
            throw new Error('it is not UTF-8 text');
          }
          // A text area turns every line end into \n; a file written with
          // \r\n gets its own back when it is saved.
          self.crlf = text.indexOf('\r\n') !== -1 && !/(^|[^\r])\n/.test(text);
          self.text.value = text;
          self.saved = self.text.value;
          self.text.disabled = false;
          self.saveBtn.disabled = !self.etag;
          self.say(self.etag ? '' : 'Cannot save: the server sent no ETag', !self.etag);
          self.text.focus();
          self.text.setSelectionRange(0, 0);
          self.text.scrollTop = 0;
        })
        .catch(function (err) {
          if (self.row === row) self.say('Cannot edit: ' + err.message, true);
        });
    },
    save: function () {
      var self = this, row = this.row;
      if (!row || this.saveBtn.disabled) return;
      var text = this.text.value;
      var data = this.crlf ? text.replace(/\n/g, '\r\n') : text;
      this.saveBtn.disabled = true;
      this.say('Saving…');
      fetch(entryURL(row), {
        method: 'PUT',
        headers: { 'If-Match': this.etag, 'Content-Type': 'text/plain; charset=utf-8' },
        body: new Blob([data]),
        credentials: 'same-origin',
        cache: 'no-store'
      }).then(function (res) {
        return res.text().then(function (t) { return { ok: res.ok, status: res.status, text: t, etag: res.headers.get('ETag') }; });
      }, function () { return { ok: false, status: 0, text: '' }; })
        .then(function (res) {
          if (self.row !== row) return;
          self.saveBtn.disabled = false;
          if (res.ok) {
            self.etag = res.etag || '';
            self.saved = text;
            self.saveBtn.disabled = !self.etag;
            self.say('Saved');
            announce('Saved ' + row.dataset.name);
            refresh();
            return;
          }
          if (res.status === 412) {
            self.reloadBtn.hidden = false;
            self.say('Not saved: someone changed the file since you opened it. Your text is still here; copy what you need, then Reload.', true);
            return;
          }
          self.say('Not saved: ' + explain(res.status, res.text), true);
        });
    }
  };

  // --------------------------------------------------------------- sharing
  //
  // A share link opens a file or folder without credentials until it
  // expires, and optionally for a number of downloads. The server makes
  // it (POST .ferry/shares) for clients that may read the entry.

  var sharer = {
    m: null,
    row: null,
    build: function () {
      if (this.m) return;
      var self = this, m = modal('sharer', {
        closed: function () {
          var back = self.row && rowByName(self.row.dataset.name);
          self.row = null;
          return back && back.querySelector('button[data-act=share]');
        }
      });
      var form = el('form', 'share-form');
      var exp = el('label', 'field');
      exp.appendChild(el('span', '', 'Works for'));
      var sel = el('select');
      sel.name = 'expires';
      [['1h', '1 hour'], ['24h', '1 day'], ['168h', '7 days']].forEach(function (o, i) {
        var opt = el('option', '', o[1]);
        opt.value = o[0];
        if (i === 1) opt.selected = true;
        sel.appendChild(opt);
      });
      exp.appendChild(sel);
      var lim = el('label', 'field');
      lim.appendChild(el('span', '', 'Downloads (empty: no limit)'));
      var num = el('input');
      num.type = 'number';
      num.name = 'downloads';
      num.min = '1';
      num.max = '1000';
      num.inputMode = 'numeric';
      lim.appendChild(num);
      var make = el('button', 'btn primary', 'Create link');
      make.type = 'submit';
      form.appendChild(exp);
      form.appendChild(lim);
      form.appendChild(make);
      var out = el('div', 'share-out');
      out.hidden = true;
      var link = el('input', 'share-link');
      link.type = 'text';
      link.readOnly = true;
      link.setAttribute('aria-label', 'Share link');
      var copy = el('button', 'btn', 'Copy');
      copy.type = 'button';
      var note = el('p', 'share-note');
      out.appendChild(link);
      out.appendChild(copy);
      out.appendChild(note);
      var state = el('p', 'share-state');
      state.setAttribute('role', 'status');
      m.body.appendChild(form);
      m.body.appendChild(out);
      m.body.appendChild(state);
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        self.create(sel.value, num.value);
      });
      copy.addEventListener('click', function () {
        link.select();
        var done = function () { state.textContent = 'Link copied.'; };
        if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(link.value).then(done, function () { document.execCommand('copy'); done(); });
        else { document.execCommand('copy'); done(); }
      });
      this.m = m;
      this.form = form;
      this.out = out;
      this.link = link;
      this.note = note;
      this.state = state;
      this.sel = sel;
    },
    open: function (row, from) {
      this.build();
      this.row = row;
      this.m.title.textContent = 'Share ' + row.dataset.name + (row.dataset.dir === '1' ? '/' : '');
      this.out.hidden = true;
      this.state.textContent = '';
      this.form.hidden = false;
      this.m.show(from);
      this.sel.focus();
    },
    create: function (expires, downloads) {
      var self = this, row = this.row;
      var path = (body.dataset.path || '/') + row.dataset.name + (row.dataset.dir === '1' ? '/' : '');
      var req = { path: path, expires: expires };
      if (downloads) req.downloads = Number(downloads);
      this.state.textContent = 'Creating…';
      fetch(new URL('shares', new URL(body.dataset.ferry || '.ferry/', folderURL)).href, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(req),
        credentials: 'same-origin',
        cache: 'no-store'
      }).then(function (res) {
        return res.text().then(function (t) { return { ok: res.ok, status: res.status, text: t }; });
      }, function () { return { ok: false, status: 0, text: '' }; }).then(function (res) {
        if (self.row !== row) return;
        if (!res.ok) { self.state.textContent = 'No link: ' + explain(res.status, res.text); return; }
        var s = JSON.parse(res.text);
        self.link.value = new URL(s.href, location.href).href;
        // Where to revoke it, as a link: a user who just made one should
        // not have to know where ferry keeps its status page.
        var status = el('a', '', 'the status page');
        status.href = new URL('status', new URL(body.dataset.ferry || '.ferry/', folderURL)).href;
        self.note.replaceChildren('Works until ' + localTime(new Date(s.expires)) +
          (s.downloads ? ', for ' + s.downloads + (s.downloads === 1 ? ' download' : ' downloads') : '') +
          '. Revoke it on ', status, '.');
        self.form.hidden = true;
        self.out.hidden = false;
        self.state.textContent = 'Link created.';
        self.link.focus();
        self.link.select();
      });
    }
  };

  // ------------------------------------------------------------ new folder

  function initMkdir() {
    var form = $('#mkdir-form');
    if (!form) return;
    if (can.edit) initNewFile(form);
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

  // initNewFile adds "New file" beside "New folder" (dufs has one): the
  // name box makes an empty file (create-only: an existing name is left
  // alone), which opens in the editor when it is text.
  function initNewFile(form) {
    var input = form.elements.mkdir;
    input.placeholder = 'New folder or file name';
    input.setAttribute('aria-label', 'Name of a new folder or file');
    var make = el('button', 'btn new-file', 'New file');
    make.type = 'button';
    form.appendChild(make);
    make.addEventListener('click', function () {
      var name = input.value.trim();
      var bad = checkName(name);
      if (bad) { toast('File not created: ' + bad + '.', true); return; }
      request('PUT', folderURL + encodeURIComponent(name), { 'If-None-Match': '*' }).then(function (res) {
        if (!res.ok) {
          toast('Could not create "' + name + '": ' + explain(res.status, res.text, {
            409: '"' + name + '" already exists',
            412: '"' + name + '" already exists'
          }), true);
          return;
        }
        input.value = '';
        toast('Created file ' + name);
        refresh(name).then(function () {
          var row = rowByName(name);
          if (row && editable(row)) editor.open(row, $('td.n a', row));
        });
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
      // The cards show progress; a screen reader hears the start and the
      // end (settled), not every repaint.
      announce('Uploading ' + (items.length === 1 ? '“' + items[0].path + '”' : items.length + ' files'));
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
      var ok = this.succeeded;
      if (ok > 0) {
        this.succeeded = 0;
        refresh();
      }
      var failed = this.jobs.filter(function (j) { return j.state === 'failed' && !j.reported; }).length;
      if (ok || failed) {
        announce((ok === 1 ? '1 file uploaded' : ok + ' files uploaded') + (failed ? ', ' + failed + ' failed' : ''));
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

  hydrate();
  filter.init();
  $('#listing').addEventListener('click', onRowAction);
  $('#listing').addEventListener('click', onNameClick);
  grid.init();
  selection.init();
  localizeHeader();
  enhanceRows();
  initQR();
  if (can.upload) {
    initMkdir();
    initUploads();
  }
})();
