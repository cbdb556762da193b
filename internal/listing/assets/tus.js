// ferry listing page: resumable uploads (tus 1.0, https://tus.io).
//
// Loaded before app.js, it offers window.ferryTus.transport, which app.js
// uses in place of its PUT transport when the page says resumable uploads
// are on (<body data-can-resume="1">). An upload is created with POST on
// <mount>/.ferry/tus/ and sent with PATCH from the offset the server has;
// its URL is remembered in localStorage under the folder, relative path,
// size and modification time of the file, so that after a dropped
// connection, or a page reload and the same file chosen again, it goes on
// from where the server stopped ("resuming at 42%") instead of starting
// over. Network errors are retried with growing pauses (and at once when
// the browser says it is back online). When the server has no tus
// endpoint for this user (403, 404, 405, 501) the file goes by the
// fallback transport (PUT).
//
// Contract (the same as app.js transports):
//   ferryTus.transport(job, events, fallback) -> { abort() }
//   job:    { file: File, path: 'relative/path/in/this/folder' }; the
//           transport sets job.note to a short text for the view
//           ("resuming at 42%", "connection lost; retrying in 4 s") and
//           clears it when it no longer applies.
//   events: progress(sent, total), done(status), fail(status, text)
//           (status 0 = network, given up), aborted(), and optionally
//           note(text) to repaint at once.
//   fallback: a transport to use when the server does not speak tus.
// Also: ferryTus.endpoint (the URL), ferryTus.chunkSize (bytes per PATCH),
// ferryTus.retryDelays (seconds), ferryTus.forget(job) (drop the stored URL).
(function () {
  'use strict';

  if (!window.XMLHttpRequest || !window.URL) return;

  var VERSION = '1.0.0';
  var script = document.currentScript;
  // The script is served from <mount>/.ferry/assets/, the endpoint is
  // <mount>/.ferry/tus/: this holds under any mount prefix.
  var endpoint = new URL('../tus/', script ? script.src : location.href).href;

  var api = {
    endpoint: endpoint,
    // Each PATCH carries at most this much, so that a stored offset is
    // never far behind what was sent.
    chunkSize: 32 * 1024 * 1024,
    // Pauses before each retry after a network error; then it gives up.
    retryDelays: [1, 2, 4, 8, 15, 30, 30, 60, 60, 120, 120, 300],
    transport: transport,
    forget: function (job) { store.remove(key(job)); }
  };
  window.ferryTus = api;

  // ---------------------------------------------------------------- storage

  var store = {
    get: function (k) {
      try {
        var v = JSON.parse(window.localStorage.getItem(k) || 'null');
        return v && typeof v.url === 'string' ? v : null;
      } catch (e) { return null; }
    },
    set: function (k, url) {
      try { window.localStorage.setItem(k, JSON.stringify({ url: url, created: Date.now() })); } catch (e) { /* private mode: no resume across reloads */ }
    },
    remove: function (k) {
      try { window.localStorage.removeItem(k); } catch (e) { /* see set */ }
    }
  };

  function folder() { return (document.body && document.body.dataset.path) || '/'; }

  function key(job) {
    var f = job.file;
    return 'ferry-tus\n' + endpoint + '\n' + folder() + '\n' + job.path + '\n' + f.size + '\n' + (f.lastModified || 0);
  }

  // base64 of a string's UTF-8 bytes (Upload-Metadata values).
  function b64(s) {
    var bytes = new TextEncoder().encode(s), bin = '';
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin);
  }

  // ---------------------------------------------------------------- transport

  function transport(job, events, fallback) {
    var total = job.file.size;
    var k = key(job);
    var st = { xhr: null, timer: 0, retries: 0, conflicts: 0, cancelled: false, finished: false, url: '', inner: null };

    function note(text) {
      job.note = text || '';
      if (events.note) events.note(job.note);
    }

    function finish(kind, a, b) {
      if (st.finished) return;
      st.finished = true;
      window.removeEventListener('online', onOnline);
      clearTimeout(st.timer);
      note('');
      events[kind](a, b);
    }

    function req(method, url, headers, body, onload, onprogress) {
      var xhr = new XMLHttpRequest();
      st.xhr = xhr;
      xhr.open(method, url);
      xhr.setRequestHeader('Tus-Resumable', VERSION);
      for (var h in headers) xhr.setRequestHeader(h, headers[h]);
      if (onprogress) xhr.upload.onprogress = onprogress;
      xhr.onload = function () { st.xhr = null; onload(xhr.status, xhr); };
      xhr.onerror = xhr.ontimeout = function () { st.xhr = null; onload(0, xhr); };
      xhr.onabort = function () { st.xhr = null; if (st.cancelled) finish('aborted'); };
      xhr.send(body);
    }

    // retry runs fn after the next pause, or at once when the browser
    // comes back online; after the last pause it gives up.
    var pending = null;
    function retry(fn) {
      if (st.retries >= api.retryDelays.length) {
        finish('fail', 0, '');
        return;
      }
      var d = api.retryDelays[st.retries++];
      note('connection lost; retrying in ' + d + ' s');
      pending = fn;
      st.timer = setTimeout(function () { pending = null; fn(); }, d * 1000);
    }
    function onOnline() {
      if (!pending) return;
      clearTimeout(st.timer);
      var fn = pending;
      pending = null;
      fn();
    }
    window.addEventListener('online', onOnline);

    function pct(off) { return total > 0 ? Math.floor(off * 100 / total) : 0; }

    function create() {
      note('');
      var meta = 'filename ' + b64(job.path) + ',folder ' + b64(folder());
      if (job.file.type) meta += ',filetype ' + b64(job.file.type);
      req('POST', endpoint, { 'Upload-Length': String(total), 'Upload-Metadata': meta }, null, function (status, xhr) {
        if (st.cancelled) return;
        if (status === 201) {
          st.url = new URL(xhr.getResponseHeader('Location') || '', endpoint).href;
          store.set(k, st.url);
          st.retries = 0;
          if (total === 0) { store.remove(k); finish('done', 201); return; }
          send(0);
        } else if (status === 0 || status === 503 || status === 423) {
          retry(create);
        } else if ((status === 403 || status === 404 || status === 405 || status === 501) && fallback) {
          // No tus endpoint here, or this user may write only in some
          // folders (--auth path rules cover /.ferry/tus/ as a whole):
          // plain PUT, which answers for itself.
          window.removeEventListener('online', onOnline);
          st.finished = true;
          st.inner = fallback(job, events);
        } else {
          finish('fail', status, xhr.responseText);
        }
      });
    }

    // resume asks the server how much it has (HEAD) and goes on from there.
    function resume() {
      req('HEAD', st.url, {}, null, function (status, xhr) {
        if (st.cancelled) return;
        if (status === 200 || status === 204) {
          var off = parseInt(xhr.getResponseHeader('Upload-Offset'), 10);
          var len = parseInt(xhr.getResponseHeader('Upload-Length'), 10);
          if (isNaN(off) || off < 0 || off > total || (!isNaN(len) && len !== total)) {
            store.remove(k);
            create();
            return;
          }
          st.retries = 0;
          if (off === total) { store.remove(k); events.progress(total, total); finish('done', 204); return; }
          note(off > 0 ? 'resuming at ' + pct(off) + '%' : '');
          // The view's speed starts afresh from here, not from zero.
          if (job.samples) job.samples.length = 0;
          events.progress(off, total);
          send(off);
        } else if (status === 0 || status === 423 || status === 503) {
          retry(resume);
        } else {
          // Gone (expired, finished elsewhere, removed): start over.
          store.remove(k);
          create();
        }
      });
    }

    function send(off) {
      var end = Math.min(off + api.chunkSize, total);
      var piece = job.file.slice(off, end);
      checksum(piece, function (sum) {
        if (st.cancelled) return;
        var h = { 'Upload-Offset': String(off), 'Content-Type': 'application/offset+octet-stream' };
        // The server checks each piece before appending it (460 when it
        // arrived other than it left): a corrupted upload never lands.
        if (sum) h['Upload-Checksum'] = 'sha256 ' + sum;
        sendPiece(off, piece, h);
      });
    }

    function sendPiece(off, piece, headers) {
      req('PATCH', st.url, headers, piece,
        function (status, xhr) {
          if (st.cancelled) return;
          if (status === 204 || status === 200) {
            var now = parseInt(xhr.getResponseHeader('Upload-Offset'), 10);
            if (isNaN(now) || now <= off) { resume(); return; }
            st.retries = 0;
            st.conflicts = 0;
            if (now >= total) { store.remove(k); finish('done', status); return; }
            send(now);
          } else if (status === 0 || status === 423 || status === 503) {
            retry(resume);
          } else if ((status === 409 || status === 400 || status === 460) && st.conflicts++ < 5) {
            // Offset mismatch or a cut body: ask where the server is. If
            // the upload was refused at completion (the name was taken
            // meanwhile) HEAD finds it gone and POST says why.
            resume();
          } else if (status === 404 || status === 410) {
            store.remove(k);
            create();
          } else {
            finish('fail', status, xhr.responseText);
          }
        },
        function (e) {
          if (!st.cancelled) {
            if (job.note && job.note.indexOf('connection lost') === 0) note('');
            events.progress(off + e.loaded, total);
          }
        });
    }

    // checksum gives a piece's SHA-256 in base64: through Web Crypto, or,
    // where there is none (a page on plain HTTP from another machine is
    // not a secure context), through sha256 below; '' only when the piece
    // cannot be read, and the piece then goes unchecked.
    function checksum(blob, done) {
      var subtle = window.crypto && window.crypto.subtle;
      if (!blob.arrayBuffer) { done(''); return; }
      var b64 = function (d) {
        var u = new Uint8Array(d), b = '';
        for (var i = 0; i < u.length; i++) b += String.fromCharCode(u[i]);
        done(btoa(b));
      };
      blob.arrayBuffer().then(function (buf) {
        if (subtle) return subtle.digest('SHA-256', buf).then(b64);
        sha256(new Uint8Array(buf), b64);
      }).catch(function () { done(''); });
    }

    var saved = store.get(k);
    if (saved) {
      st.url = saved.url;
      resume();
    } else {
      create();
    }

    return {
      abort: function () {
        if (st.inner) { st.inner.abort(); return; }
        if (st.cancelled || st.finished) return;
        st.cancelled = true;
        clearTimeout(st.timer);
        store.remove(k);
        if (st.url) {
          // Cancelled by the user: free the server's partial data
          // (termination). Nothing waits for the answer.
          var del = new XMLHttpRequest();
          del.open('DELETE', st.url);
          del.setRequestHeader('Tus-Resumable', VERSION);
          del.send();
        }
        if (st.xhr) st.xhr.abort(); // onabort reports it
        else finish('aborted');
      }
    };
  }
  // ----------------------------------------------------------------- sha256
  //
  // SHA-256 (FIPS 180-4) in script, for pages without Web Crypto. It works
  // through a piece a mebibyte at a time, yielding between, so the page
  // stays responsive while a 32 MiB piece is hashed.

  var K256 = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ];

  // blocks runs the compression function over b[o:end] (whole 64-byte
  // blocks) on the state h.
  function blocks(h, w, b, o, end) {
    var K = K256, i, x, y, t1, t2;
    for (; o < end; o += 64) {
      for (i = 0; i < 16; i++) w[i] = b[o + 4 * i] << 24 | b[o + 4 * i + 1] << 16 | b[o + 4 * i + 2] << 8 | b[o + 4 * i + 3];
      for (i = 16; i < 64; i++) {
        x = w[i - 15]; y = w[i - 2];
        w[i] = ((x >>> 7 | x << 25) ^ (x >>> 18 | x << 14) ^ x >>> 3) + w[i - 16] +
          ((y >>> 17 | y << 15) ^ (y >>> 19 | y << 13) ^ y >>> 10) + w[i - 7] | 0;
      }
      var a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
      for (i = 0; i < 64; i++) {
        t1 = k + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) + (e & f ^ ~e & g) + K[i] + w[i] | 0;
        t2 = ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) + (a & bb ^ a & c ^ bb & c) | 0;
        k = g; g = f; f = e; e = d + t1 | 0; d = c; c = bb; bb = a; a = t1 + t2 | 0;
      }
      h[0] += a; h[1] += bb; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
    }
  }

  // sha256 hashes the bytes u and calls done with the 32-byte digest.
  function sha256(u, done) {
    var h = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    var w = new Int32Array(64), len = u.length, full = len - len % 64, o = 0;
    (function step() {
      var end = Math.min(o + (1 << 20), full);
      blocks(h, w, u, o, end);
      o = end;
      if (o < full) { setTimeout(step, 0); return; }
      // The last block or two: the bytes after the last whole block, 0x80,
      // zeros and the length in bits, big-endian.
      var tail = new Uint8Array(len % 64 < 56 ? 64 : 128), dv = new DataView(tail.buffer);
      tail.set(u.subarray(full));
      tail[len % 64] = 0x80;
      dv.setUint32(tail.length - 8, Math.floor(len / 0x20000000));
      dv.setUint32(tail.length - 4, (len << 3) >>> 0);
      blocks(h, w, tail, 0, tail.length);
      var out = new Uint8Array(32), odv = new DataView(out.buffer);
      for (var i = 0; i < 8; i++) odv.setInt32(4 * i, h[i]);
      done(out.buffer);
    })();
  }
  api.sha256 = sha256; // for the tests
})();
