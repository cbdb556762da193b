package transfer

import (
	"net/http"
	"time"
)

// Outcomes only uploads have.
const (
	// Refused: the server would not store the upload (Transfer.Reason says why).
	Refused = "refused"
	// Partial: one piece of a resumable upload arrived whole; the upload
	// goes on in a later request.
	Partial = "partial"
)

// upload is what an upload handler tells about the request's outcome; it is
// written and read on the request's goroutine only.
type upload struct {
	outcome string
	reason  string
	files   []string // names stored, up to maxFiles
	nfiles  int      // how many were stored
}

// maxFiles bounds the names a Transfer keeps of one request's files (a
// folder upload may carry thousands); the count goes on.
const maxFiles = 20

// Upload marks the request as an upload to path (from the served root,
// "/docs/a.txt") of a file of size bytes (-1 unknown), of which offset
// bytes were stored by earlier requests (a resumed upload), so that Done
// and Size describe the whole file. It does not show the transfer: Describe
// does, once the body is about to be read. Call it before Describe.
func (t *Transfer) Upload(path string, offset, size int64) {
	t.Kind, t.Path, t.Offset, t.Size = KindUpload, path, offset, size
}

// Refuse records that the upload was not stored, and why (the reason the
// client was given).
func (t *Transfer) Refuse(reason string) {
	if t.Kind != KindUpload {
		// Written only before Describe published the transfer.
		t.Kind = KindUpload
	}
	t.up.outcome, t.up.reason = Refused, reason
}

// Cut records that the upload's body broke off before its end.
func (t *Transfer) Cut() { t.up.outcome = CutShort }

// Piece records that a part of a resumable upload arrived whole, the upload
// still unfinished.
func (t *Transfer) Piece() { t.up.outcome = Partial }

// Stored records that the file path (from the served root) was stored
// whole. A request may store several (a multipart form).
func (t *Transfer) Stored(path string) {
	t.up.outcome = Complete
	if len(t.up.files) < maxFiles {
		t.up.files = append(t.up.files, path)
	}
	t.up.nfiles++
}

// Reason is why an upload was refused, "" otherwise.
func (t *Transfer) Reason() string { return t.up.reason }

// Files is how many files the request stored.
func (t *Transfer) Files() int { return t.up.nfiles }

// Received is the number of request body bytes read so far.
func (t *Transfer) Received() int64 { return t.received.Load() }

// endUpload settles an upload's outcome. A failure the handler did not
// describe is a refusal named by its status; a success it did not describe
// stored no file (a form that only made folders) and is no upload.
func (t *Tracker) endUpload(tr *Transfer, rec *Recorder) string {
	out := tr.up.outcome
	if status := rec.Status(); out == "" && status >= 400 {
		out = Refused
		tr.up.reason = http.StatusText(status)
	}
	tr.up.outcome = out
	switch out {
	case Complete:
		t.uploadsCompleted.Add(int64(max(tr.up.nfiles, 1)))
	case CutShort:
		t.uploadsCut.Add(1)
	default:
		return out
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if out == CutShort || len(tr.up.files) == 0 {
		t.record(tr, now, out, tr.Done())
		t.move(KindUpload, tr.Path, out, tr.Done(), tr.Size)
		return out
	}
	for _, f := range tr.up.files {
		// The bytes of each of several files are not told apart.
		done, size := tr.Done(), tr.Size
		if tr.up.nfiles > 1 {
			done, size = -1, -1
		}
		t.record(&Transfer{Client: tr.Client, Path: f, Start: tr.Start, Kind: KindUpload, Size: size}, now, out, done)
		t.move(KindUpload, f, out, done, size)
	}
	t.movedMore += int64(tr.up.nfiles - len(tr.up.files))
	return out
}

// Moved is a file that was downloaded or uploaded, as the summary names it.
// Repeats of one file with one outcome are one entry.
type Moved struct {
	Kind    Kind
	Path    string
	Outcome string
	Done    int64 // bytes moved, of Size; -1 unknown
	Size    int64
	Count   int // how many times
}

// maxMoved bounds the files named in the summary; beyond, they are counted.
const maxMoved = 20

// move notes a finished transfer for the summary; t.mu is held.
func (t *Tracker) move(kind Kind, path, outcome string, done, size int64) {
	if kind == KindArchive {
		kind = KindFile
	}
	for i := range t.moved {
		m := &t.moved[i]
		if m.Kind == kind && m.Path == path && m.Outcome == outcome {
			m.Count++
			m.Done, m.Size = done, size
			return
		}
	}
	if len(t.moved) < maxMoved {
		t.moved = append(t.moved, Moved{Kind: kind, Path: path, Outcome: outcome, Done: done, Size: size, Count: 1})
		return
	}
	t.movedMore++
}

// InFlight is the number of transfers under way (described, not ended).
func (t *Tracker) InFlight() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.inflight)
}

// Active is the number of requests whose handlers run (downloads waiting
// for acknowledgement have none left).
func (t *Tracker) Active() int { return int(max(t.active.Load()-t.unsettled.Load(), 0)) }
