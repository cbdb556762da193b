package cgi

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"time"
)

// proc is a running script. Its three streams are pipes ferry made itself,
// not exec's: exec.Cmd.Wait would wait for its copying goroutines, so the
// end of the script could not be told apart from the end of its output,
// and a child left holding stdout would keep the whole group alive.
type proc struct {
	stdout *os.File
	// exited is closed once the script has ended and its process group
	// was killed; err is its exit status, read after that.
	exited chan struct{}
	err    error
	// stderrDone is closed once stderr was read to its end (or closed).
	stderrDone chan struct{}
	// stdinDone is closed once the copy of the body to the script ended;
	// nil when the body is a file the script reads itself, or there is
	// none. bodyRead says whether the copy read the body to its end.
	stdinDone chan struct{}
	bodyRead  atomic.Bool
}

// start runs exe in a process group of its own, its stdin from stdin (nil
// for none), its stderr to errLog. Everything ends with ctx: the group is
// killed and the pipes closed, so no read of them outlives it.
func start(ctx context.Context, exe string, env []string, stdin io.Reader, errLog io.WriteCloser) (*proc, error) {
	cmd := exec.CommandContext(ctx, exe)
	cmd.Dir = filepath.Dir(exe)
	cmd.Env = env
	ownProcessGroup(cmd)

	var parent, child []*os.File // our ends, and the ends the script gets
	closeAll := func(fs []*os.File) {
		for _, f := range fs {
			f.Close()
		}
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll([]*os.File{outR, outW})
		return nil, err
	}
	parent, child = []*os.File{outR, errR}, []*os.File{outW, errW}
	cmd.Stdout, cmd.Stderr = outW, errW
	var inW *os.File
	switch in := stdin.(type) {
	case nil:
	case *os.File:
		cmd.Stdin = in
	default:
		inR, w, err := os.Pipe()
		if err != nil {
			closeAll(append(parent, child...))
			return nil, err
		}
		cmd.Stdin, inW = inR, w
		parent, child = append(parent, inW), append(child, inR)
	}
	err = cmd.Start()
	// The script holds its own copies of its ends now.
	closeAll(child)
	if err != nil {
		closeAll(parent)
		return nil, err
	}

	p := &proc{stdout: outR, exited: make(chan struct{}), stderrDone: make(chan struct{})}
	context.AfterFunc(ctx, func() { closeAll(parent) })
	go func() {
		io.Copy(errLog, errR)
		errLog.Close()
		close(p.stderrDone)
	}()
	if inW != nil {
		p.stdinDone = make(chan struct{})
		go func() {
			// A script that exits without reading makes the write fail
			// (EPIPE), which ends the copy.
			_, err := io.Copy(inW, stdin)
			p.bodyRead.Store(err == nil)
			inW.Close()
			close(p.stdinDone)
		}()
	}
	go func() {
		p.err = cmd.Wait()
		// The script is gone; whatever it left running in its group goes
		// too, whether or not it still holds stdout (a `sleep 1000 &` with
		// its output redirected would otherwise outlive --cgi-timeout).
		killGroup(cmd)
		close(p.exited)
		// A descendant that left the group (setsid) may hold stderr open
		// for ever: give it a moment, then close our end.
		time.AfterFunc(waitDelay, func() { errR.Close() })
	}()
	return p, nil
}

// closeIfBodyPending asks for the connection to close after the response
// unless the body was read to its end when the response starts: should the
// script end without reading the rest, finish stops reading it, and on
// HTTP/1 the unread rest must not be taken for the next request (a proxy
// that sends it would be desynchronised: request smuggling).
func (p *proc) closeIfBodyPending(w http.ResponseWriter, r *http.Request) {
	if p.stdinDone == nil || r.ProtoMajor != 1 {
		return
	}
	select {
	case <-p.stdinDone:
		if p.bodyRead.Load() {
			return
		}
	default:
	}
	w.Header().Set("Connection", "close")
}

// finish waits for the script and the streams it used, so that nothing
// touches the request once the handler returns: the request body's copier
// is stopped (its read may be waiting for a client that sends nothing),
// the pipes are closed, and stderr is logged to its end.
func (p *proc) finish(cancel context.CancelFunc, w http.ResponseWriter) {
	<-p.exited
	<-p.stderrDone
	if p.stdinDone != nil && !p.bodyRead.Load() {
		// The script has ended, so nothing wants the rest of the body:
		// stop reading it, both the copy's read (which may wait for a
		// client that sends no more) and net/http's own draining after
		// the handler. The connection closes instead, as the response
		// announced (closeIfBodyPending).
		http.NewResponseController(w).SetReadDeadline(time.Now())
		cancel()
		<-p.stdinDone
	}
	cancel()
}
