// ferry listing page: progressive enhancement.
//
// The page works without this script (links, sort, plain upload and new-folder
// forms). This adds a filter box, drag-and-drop uploads with progress, and
// rename/delete buttons, each only when the server says it allows them through
// the <body> data- attributes. Plain script, no framework, no build step; it
// runs under a CSP without 'unsafe-inline', so it never sets inline styles or
// handlers and never evaluates strings.
(function () {
  'use strict';

  var body = document.body;
  if (!body || !window.URL || !document.querySelector) return;

  var can = {
    upload: body.dataset.canUpload === '1',
    del: body.dataset.canDelete === '1',
    move: body.dataset.canMove === '1'
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
    frame: 0,
    index: function () {
      this.rows = entryRows();
      this.names = this.rows.map(function (r) { return r.dataset.name.toLowerCase(); });
      this.apply();
    },
    apply: function () {
      if (!this.input) return;
      var q = this.input.value.trim().toLowerCase(), shown = 0;
      for (var i = 0; i < this.rows.length; i++) {
        var hit = !q || this.names[i].indexOf(q) !== -1;
        if (this.rows[i].hidden === hit) this.rows[i].hidden = !hit;
        if (hit) shown++;
      }
      this.input.title = q ? shown + ' of ' + this.rows.length + ' shown' : '';
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

  // enhanceRows adds the action cells (in slices, so 100,000 rows do not
  // freeze the page) and re-indexes the filter.
  function enhanceRows() {
    filter.index();
    if (!can.move && !can.del) return;
    var head = $('#listing thead tr');
    if (head && !$('th.a', head)) {
      var th = el('th', 'a');
      th.appendChild(el('span', 'visually-hidden', 'Actions'));
      th.setAttribute('scope', 'col');
      head.appendChild(th);
    }
    Array.prototype.forEach.call(tbody().rows, function (r) {
      if (r.dataset.name == null && !r.querySelector('td.a') && !r.classList.contains('empty')) r.appendChild(el('td', 'a'));
    });
    var rows = entryRows(), i = 0;
    (function slice() {
      var end = Math.min(i + 2000, rows.length);
      for (; i < end; i++) if (!rows[i].querySelector('td.a')) rows[i].appendChild(actionCell(rows[i]));
      if (i < rows.length) setTimeout(slice, 0);
    })();
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

  var view = {
    list: $('#uploads'),
    clear: null,
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
    settled: function () {
      if (!this.list || this.list.hidden) return;
      if (!this.clear) {
        var li = el('li', 'u-clear-row');
        var b = el('button', 'btn u-clear', 'Clear finished uploads');
        b.type = 'button';
        var self = this;
        b.addEventListener('click', function () {
          queue.jobs = queue.jobs.filter(function (j) {
            if (j.state === 'queued' || j.state === 'sending') return true;
            j.view.li.remove();
            return false;
          });
          li.remove();
          self.clear = null;
          if (!queue.jobs.length) self.list.hidden = true;
        });
        li.appendChild(b);
        this.clear = li;
      }
      this.list.appendChild(this.clear);
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
    makeDirs(dirs).then(function () {
      if (items.length) queue.add(items);
      else refresh();
    });
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
  enhanceRows();
  if (can.upload) {
    initMkdir();
    initUploads();
  }
})();
