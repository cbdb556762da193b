// ferry status page: keeps its figures current in place, every two seconds,
// without reloading the page, so focus, scrolling and a text selection stay
// where the reader left them. Without script a <noscript> meta refresh
// reloads the page instead. Runs under the same CSP as the listing.
(function () {
  'use strict';

  var main = document.querySelector('main');
  if (!main || !window.fetch || !window.DOMParser) return;
  var EVERY = 2000;

  // busy: the reader is working inside the figures (a focused control, a
  // selection, or the pointer on a link or button, perhaps pressing it);
  // replacing them now would take that away: a button swapped between
  // the press and the release never gets the click.
  function busy() {
    var a = document.activeElement;
    if (a && a !== document.body && main.contains(a)) return true;
    if (main.querySelector('a:hover, button:hover, input:hover')) return true;
    var sel = document.getSelection && document.getSelection();
    return !!(sel && !sel.isCollapsed && main.contains(sel.anchorNode));
  }

  function schedule() { setTimeout(tick, EVERY); }

  function tick() {
    if (document.hidden || busy()) { schedule(); return; }
    fetch(location.href, { headers: { Accept: 'text/html' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, 'text/html').querySelector('main');
        if (!fresh || fresh.innerHTML === main.innerHTML || busy()) return;
        // A copy of the list first: fresh.childNodes is live, and each
        // adopted node leaves it, so mapping over it skipped every other
        // node and left "undefined" in their place.
        main.replaceChildren.apply(main, Array.prototype.slice.call(fresh.childNodes).map(function (n) {
          return document.adoptNode(n);
        }));
      })
      .catch(function () { /* the server went away or refused: try again later */ })
      .then(schedule);
  }

  schedule();
})();
