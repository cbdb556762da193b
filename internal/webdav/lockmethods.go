package webdav

import (
	"bufio"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"strings"

	"github.com/ferry-sh/ferry/internal/mount"
	"github.com/ferry-sh/ferry/internal/rootfs"
	"github.com/ferry-sh/ferry/internal/storage"
	"github.com/ferry-sh/ferry/internal/storage/policy"
)

// activeLocks are the locks not yet expired; expired ones are forgotten on
// the way.
func (h *Handler) activeLocks(ctx context.Context) ([]Lock, error) {
	all, err := h.locks.Locks(ctx)
	if err != nil {
		return nil, err
	}
	now := h.now()
	out := all[:0]
	for _, l := range all {
		if now.After(l.Expires) {
			h.forget(ctx, l)
			continue
		}
		out = append(out, l)
	}
	return out, nil
}

// forget drops a lock: its claim (where locks are shared between
// processes), then its record.
func (h *Handler) forget(ctx context.Context, l Lock) error {
	if c, ok := h.locks.(claimer); ok {
		if err := c.Release(ctx, l); err != nil {
			return err
		}
	}
	return h.locks.Delete(ctx, l.Token)
}

// conflicts reports whether the existing lock l forbids a new one on name
// (of infinite depth when deep; shared or not): RFC 4918 §6.1, an
// exclusive lock goes with no other lock on the same resource, a shared
// one with shared ones only.
func conflicts(l *Lock, name string, deep, shared bool) bool {
	overlap := l.covers(name) || deep && under(l.Root, name)
	return overlap && (!l.Shared || !shared)
}

// touch is a name a write changes, for finding the locks that guard it.
type touch struct {
	name string
	// deep: the write reaches everything under name (DELETE, MOVE, a
	// replaced folder), so locks rooted below it count too.
	deep bool
	// member: the write adds or removes name from its folder, which a lock
	// on the folder itself guards, whatever its depth (RFC 4918 §7.4).
	member bool
	// memberOnly: only the folder's membership counts (a LOCK that makes
	// the name, which other locks on the name itself do not forbid).
	memberOnly bool
}

func (t touch) guardedBy(l *Lock) bool {
	if t.member && t.name != "." && l.Root == parent(t.name) {
		return true
	}
	return !t.memberOnly && (l.covers(t.name) || t.deep && under(l.Root, t.name))
}

// precondition is a request refused by the If header or the locks.
type precondition struct {
	status int
	cond   string   // RFC 4918 §16 condition for the error body, or ""
	hrefs  []string // resources the condition names
	msg    string
}

func (p *precondition) Error() string { return p.msg }

func (p *precondition) write(w http.ResponseWriter, r *http.Request) {
	if p.cond != "" {
		failCondition(w, p.status, p.cond, p.hrefs...)
		return
	}
	fail(w, r, p.status, p.msg)
}

// check evaluates the If header of r (RFC 4918 §10.4) for the request's
// resource name and verifies that every lock guarding the touched names
// has its token submitted by the user who took it. It returns the
// submitted tokens that name a current lock.
func (h *Handler) check(r *http.Request, name string, locks []Lock, touches ...touch) (map[string]bool, error) {
	ctx := r.Context()
	submitted := map[string]bool{}
	if raw := r.Header.Values("If"); len(raw) > 0 {
		ih, err := parseIf(strings.Join(raw, " "))
		if err != nil {
			return nil, &precondition{status: http.StatusBadRequest, msg: "malformed If header"}
		}
		ok, err := h.evalIf(ctx, r, name, ih, locks)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &precondition{status: http.StatusPreconditionFailed, msg: "the If header's conditions do not hold"}
		}
		who := user(r)
		for _, t := range ih.tokens() {
			for _, l := range locks {
				if l.Token == t && (l.User == "" || l.User == who) {
					submitted[t] = true
				}
			}
		}
	}
	var missing []string
	prefix := mount.Prefix(r)
	for i := range locks {
		l := &locks[i]
		if submitted[l.Token] {
			continue
		}
		for _, t := range touches {
			if t.guardedBy(l) {
				missing = append(missing, href(prefix, l.Root, l.Dir))
				break
			}
		}
	}
	if len(missing) > 0 {
		return nil, &precondition{status: http.StatusLocked, cond: "lock-token-submitted", hrefs: missing, msg: "locked"}
	}
	return submitted, nil
}

// evalIf tells whether any list of the header holds: every condition of
// it true for the resource it is tagged with (the request's when untagged).
func (h *Handler) evalIf(ctx context.Context, r *http.Request, name string, ih ifHeader, locks []Lock) (bool, error) {
	type stat struct {
		info storage.Info
		ok   bool
	}
	stats := map[string]stat{}
	for _, l := range ih.lists {
		res := name
		if l.tag != "" {
			n, ok := resolve(r, l.tag)
			if !ok {
				continue // a resource ferry does not serve: the list is false
			}
			res = n
		}
		holds := true
		for _, c := range l.conds {
			var v bool
			if c.token != "" {
				for i := range locks {
					if locks[i].Token == c.token && locks[i].covers(res) {
						v = true
						break
					}
				}
			} else {
				s, seen := stats[res]
				if !seen {
					info, err := h.tree.Stat(ctx, res)
					if err != nil && !errors.Is(err, fs.ErrNotExist) {
						return false, err
					}
					s = stat{info, err == nil}
					stats[res] = s
				}
				v = s.ok && !s.info.IsDir && etagMatch(c.etag, etag(s.info))
			}
			if v == c.not {
				holds = false
				break
			}
		}
		if holds {
			return true, nil
		}
	}
	return false, nil
}

// etagMatch compares entity tags strongly, as RFC 4918 §10.4.8 asks, but
// lets a client's weak tag match the same opaque value.
func etagMatch(given, have string) bool {
	return strings.TrimPrefix(given, "W/") == have
}

// lock answers LOCK: a new lock (RFC 4918 §9.10) or a refresh (an empty
// body and the lock's token in If).
func (h *Handler) lock(w http.ResponseWriter, r *http.Request, name string) {
	ctx := r.Context()
	depth, err := parseDepth(r.Header.Get("Depth"), infinity)
	if err != nil || depth == 1 {
		fail(w, r, http.StatusBadRequest, "Depth must be 0 or infinity for LOCK")
		return
	}
	timeout := parseTimeout(r.Header.Get("Timeout"))
	body, err := readBody(w, r)
	if err != nil {
		h.failBody(w, r, err)
		return
	}
	if body == nil {
		h.refresh(w, r, name)
		return
	}
	li, err := parseLockInfo(body)
	if err != nil {
		h.failBody(w, r, err)
		return
	}
	// Within one process, the check for conflicts and the new record are
	// one step; across processes sharing the locks, the claim and the
	// check after the record make sure two conflicting LOCKs never both
	// win.
	h.lockMu.Lock()
	defer h.lockMu.Unlock()
	locks, err := h.activeLocks(ctx)
	if err != nil {
		h.failStorage(w, r, err)
		return
	}
	info, err := h.tree.Stat(ctx, name)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		h.failStorage(w, r, err)
		return
	}
	var touches []touch
	if !exists {
		touches = append(touches, touch{name: name, member: true, memberOnly: true})
	}
	if _, err := h.check(r, name, locks, touches...); err != nil {
		h.failCheck(w, r, err)
		return
	}
	for i := range locks {
		if l := &locks[i]; conflicts(l, name, depth == infinity, li.shared) {
			failCondition(w, http.StatusLocked, "no-conflicting-lock", href(mount.Prefix(r), l.Root, l.Dir))
			return
		}
	}
	status := http.StatusOK
	if !exists {
		// A LOCK of an unmapped name makes an empty file (RFC 4918 §7.3),
		// which is a write like a PUT of nothing: checked now, made once
		// the lock is granted, so that a refused LOCK leaves nothing.
		if err := h.mayCreate(r, name); err != nil {
			h.failCheck(w, r, err)
			return
		}
		status = http.StatusCreated
	}
	l := Lock{
		Token: newToken(), Root: name, Dir: info.IsDir, Shared: li.shared,
		Infinite: depth == infinity && info.IsDir, Owner: li.owner, User: user(r),
		Timeout: timeout, Expires: h.now().Add(timeout),
	}
	if c, ok := h.locks.(claimer); ok {
		if !h.lockShared(w, r, c, &l, locks, depth == infinity) {
			return
		}
	} else if err := h.locks.Save(ctx, l); err != nil {
		h.failStorage(w, r, err)
		return
	}
	if !exists {
		if err := h.createEmpty(ctx, name); err != nil {
			h.logErr(r, "withdrawing a lock", h.forget(ctx, l))
			h.failCheck(w, r, err)
			return
		}
	}
	w.Header().Set("Lock-Token", "<"+l.Token+">")
	h.writeLockBody(w, r, status, &l)
}

// lockShared records the new lock l in a store other processes share:
// they may be granting a conflicting lock at the same moment, which the
// check before (under lockMu) cannot see. Of LOCKs racing for one resource,
// the claim lets exactly one through. Of LOCKs on different resources that
// conflict (a folder's infinite lock and one on a member), each writes its
// record and then looks again: the later look sees the other's record, so
// at most one is granted (both may be refused; the client tries again).
func (h *Handler) lockShared(w http.ResponseWriter, r *http.Request, c claimer, l *Lock, locks []Lock, deep bool) bool {
	ctx := r.Context()
	refuse := func() {
		failCondition(w, http.StatusLocked, "no-conflicting-lock", href(mount.Prefix(r), l.Root, l.Dir))
	}
	ok, owned, err := c.Claim(ctx, *l, locks, h.now())
	if err != nil {
		h.failStorage(w, r, err)
		return false
	}
	if !ok {
		refuse()
		return false
	}
	if err := h.locks.Save(ctx, *l); err != nil {
		if owned {
			h.logErr(r, "releasing a claim", c.Release(ctx, *l))
		}
		h.failStorage(w, r, err)
		return false
	}
	again, err := h.activeLocks(ctx)
	if err != nil {
		h.logErr(r, "withdrawing a lock", h.forget(ctx, *l))
		h.failStorage(w, r, err)
		return false
	}
	for i := range again {
		if o := &again[i]; o.Token != l.Token && conflicts(o, l.Root, deep, l.Shared) {
			h.logErr(r, "withdrawing a lock", h.forget(ctx, *l))
			refuse()
			return false
		}
	}
	return true
}

// mayCreate makes the checks a PUT of nothing would meet, for the empty
// file of a lock on an unmapped name.
func (h *Handler) mayCreate(r *http.Request, name string) error {
	ctx := r.Context()
	if !h.opts.Create {
		return &precondition{status: http.StatusForbidden, msg: "creating files is not enabled (--upload)"}
	}
	if name == "." {
		return &precondition{status: http.StatusConflict, msg: "the served folder is a folder"}
	}
	// The path as sent: "/a//b.txt" is no name to create, nor "/new/" a
	// file's.
	if _, dir, err := rootfs.ParseNewURLPath(r.URL.EscapedPath()); err != nil || dir {
		return &precondition{status: http.StatusBadRequest, msg: "invalid name for a new file"}
	}
	if err := (policy.Rules{Hidden: h.opts.Hidden}).ValidateRelPath(name); err != nil {
		var ne *rootfs.NameError
		msg := "invalid name"
		if errors.As(err, &ne) {
			msg += ": " + ne.Reason
		}
		return &precondition{status: http.StatusBadRequest, msg: msg}
	}
	if info, err := h.tree.Stat(ctx, parent(name)); err != nil || !info.IsDir {
		return &precondition{status: http.StatusConflict, msg: "the parent folder does not exist"}
	}
	return nil
}

// createEmpty makes the empty file of a lock on an unmapped name.
func (h *Handler) createEmpty(ctx context.Context, name string) error {
	st, err := h.tree.Stage(ctx, name, 0)
	if err != nil {
		return err
	}
	if _, err := st.Commit(ctx, false); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
		// Taken meanwhile by another client, which is fine; or taken by
		// something the policy hides (a link leading out), which is no
		// name to lock.
		if _, serr := h.tree.Stat(ctx, name); serr != nil {
			return &precondition{status: http.StatusConflict, msg: "the name is taken"}
		}
	}
	return nil
}

func (h *Handler) failCheck(w http.ResponseWriter, r *http.Request, err error) {
	var p *precondition
	if errors.As(err, &p) {
		p.write(w, r)
		return
	}
	h.failStorage(w, r, err)
}

// refresh answers a LOCK without a body: the lock named in If gets a new
// timeout (RFC 4918 §9.10.2).
func (h *Handler) refresh(w http.ResponseWriter, r *http.Request, name string) {
	ctx := r.Context()
	if r.Header.Get("If") == "" {
		fail(w, r, http.StatusBadRequest, "a lock refresh names its lock in the If header")
		return
	}
	h.lockMu.Lock()
	defer h.lockMu.Unlock()
	locks, err := h.activeLocks(ctx)
	if err != nil {
		h.failStorage(w, r, err)
		return
	}
	submitted, err := h.check(r, name, locks)
	if err != nil {
		h.failCheck(w, r, err)
		return
	}
	for _, l := range locks {
		if submitted[l.Token] && l.covers(name) {
			l.Timeout = parseTimeout(r.Header.Get("Timeout"))
			l.Expires = h.now().Add(l.Timeout)
			if err := h.locks.Save(ctx, l); err != nil {
				h.failStorage(w, r, err)
				return
			}
			h.writeLockBody(w, r, http.StatusOK, &l)
			return
		}
	}
	failCondition(w, http.StatusPreconditionFailed, "lock-token-matches-request-uri")
}

func (h *Handler) writeLockBody(w http.ResponseWriter, r *http.Request, status int, l *Lock) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	b := bufio.NewWriter(w)
	b.WriteString(xmlHeader + `<prop xmlns="DAV:"><lockdiscovery>`)
	h.writeActiveLock(b, mount.Prefix(r), l)
	b.WriteString("</lockdiscovery></prop>\n")
	b.Flush()
}

// unlock answers UNLOCK (RFC 4918 §9.11).
func (h *Handler) unlock(w http.ResponseWriter, r *http.Request, name string) {
	ctx := r.Context()
	tok := strings.TrimSpace(r.Header.Get("Lock-Token"))
	if len(tok) < 3 || tok[0] != '<' || tok[len(tok)-1] != '>' {
		fail(w, r, http.StatusBadRequest, "UNLOCK needs a Lock-Token header: <token>")
		return
	}
	tok = tok[1 : len(tok)-1]
	h.lockMu.Lock()
	defer h.lockMu.Unlock()
	locks, err := h.activeLocks(ctx)
	if err != nil {
		h.failStorage(w, r, err)
		return
	}
	for _, l := range locks {
		if l.Token != tok || !l.covers(name) {
			continue
		}
		if l.User != "" && l.User != user(r) {
			fail(w, r, http.StatusForbidden, "the lock belongs to another user")
			return
		}
		if err := h.forget(ctx, l); err != nil {
			h.failStorage(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	failCondition(w, http.StatusConflict, "lock-token-matches-request-uri")
}
