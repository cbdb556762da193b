package tus

import (
	"encoding/json"
	"io"
	"strings"
	"time"
)

// janitor removes expired uploads until Close.
func (h *Handler) janitor() {
	defer h.wg.Done()
	every := min(max(h.opts.TTL/4, 100*time.Millisecond), 10*time.Minute)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			h.sweep()
		}
	}
}

// sweep removes unfinished uploads idle for longer than the TTL, and forgets
// finished ones after finishedKeep (or the TTL if shorter). An upload a
// request is working on is left alone: it is not idle.
func (h *Handler) sweep() {
	now := h.now()
	h.mu.Lock()
	var expired []*upload
	for _, u := range h.uploads {
		u.mu.Lock()
		keep := h.opts.TTL
		if u.finished {
			keep = min(keep, finishedKeep)
		}
		old := now.Sub(u.touched) > keep
		u.mu.Unlock()
		if old {
			expired = append(expired, u)
		}
	}
	h.mu.Unlock()
	for _, u := range expired {
		select {
		case u.lock <- struct{}{}:
			h.drop(u)
			u.unlock()
		default:
		}
	}
}

// load picks up the uploads a previous run left in the served root, removing
// those that expired or whose data is gone.
func (h *Handler) load() {
	root, err := h.fs.OpenRaw(".")
	if err != nil {
		return
	}
	names, _ := root.Readdirnames(-1)
	root.Close()
	now := h.now()
	for _, name := range names {
		if !strings.HasPrefix(name, namePrefix) || !strings.HasSuffix(name, infoSuffix) {
			continue
		}
		u, ok := h.loadOne(name)
		if !ok {
			h.fs.RemoveTemp(name)
			continue
		}
		if now.Sub(u.touched) > h.opts.TTL {
			h.fs.RemoveTemp(u.dataName())
			h.fs.RemoveTemp(name)
			continue
		}
		h.add(u)
		if u.offset == u.Length {
			// All bytes had arrived but the server stopped before the
			// file got its name.
			u.lock <- struct{}{}
			h.finish(u)
			u.unlock()
		}
	}
}

func (h *Handler) loadOne(name string) (*upload, bool) {
	f, err := h.fs.OpenRaw(name)
	if err != nil {
		return nil, false
	}
	desc, err := io.ReadAll(io.LimitReader(f, 64<<10))
	f.Close()
	if err != nil {
		return nil, false
	}
	var u upload
	if json.Unmarshal(desc, &u) != nil || !validID(u.ID) || infoName(u.ID) != name || u.Length < 0 {
		return nil, false
	}
	// The description is ours, but check it as if it were not: it lies
	// in the served tree.
	if _, err := TargetName("", u.Target, true); err != nil {
		return nil, false
	}
	if _, err := TargetName("", u.Dir, true); err != nil && u.Dir != "." {
		return nil, false
	}
	info, err := h.fs.LstatRaw(u.dataName())
	if err != nil || !info.Mode().IsRegular() || info.Size() > u.Length {
		return nil, false
	}
	u.lock = make(chan struct{}, 1)
	u.stored = true
	u.offset = info.Size()
	u.touched = info.ModTime()
	return &u, true
}
