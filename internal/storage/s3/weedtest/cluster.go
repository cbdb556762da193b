package weedtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// Cluster is a SeaweedFS cluster on loopback, laid out as a small
// production one would be: three masters electing a leader with Raft, three
// volume servers in one rack with every volume kept on two of them
// (replication 001), two filers that share their metadata, and an S3
// gateway that fails over between the filers. Its Store fields describe the
// gateway; its methods stop and start parts of it.
type Cluster struct {
	*Store
	masters, volumes, filers []*proc
	gateway                  *proc
	masterPorts, volumePorts []int
	filerPorts               []int
}

// proc is one weed process, restartable with the same arguments.
type proc struct {
	name    string
	bin     string
	args    []string
	env     []string // added to the environment without AWS_*
	logPath string

	cmd  *exec.Cmd
	done chan struct{}
}

var errExited = errors.New("exited")

func (p *proc) start() error {
	if p.running() {
		return nil
	}
	log, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(cleanEnv(), p.env...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("weed %s: %v", p.name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); log.Close(); close(done) }()
	p.cmd, p.done = cmd, done
	return nil
}

func (p *proc) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// signal sends sig to a running process and waits up to grace for it to
// end, then kills it.
func (p *proc) signal(sig os.Signal, grace time.Duration) {
	if !p.running() {
		return
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) stop() { p.signal(os.Interrupt, 10*time.Second) }

// tail is the end of the process's log, for a failure message.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return fmt.Sprintf("--- weed %s log (%s):\n%s", p.name, p.logPath, b)
}

// waitFor polls ready every 100 ms until it returns nil or d has passed; the
// last error explains a timeout.
func waitFor(d time.Duration, ready func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := ready()
		if err == nil || errors.Is(err, errExited) {
			return err
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// StartCluster runs a cluster of t's own, stopped and removed when t ends.
// The bucket Store.Bucket exists and takes writes when it returns.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	bin := Need(t)
	c, err := startCluster(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return c
}

// clusterStart bounds how long a cluster, or a part of it, may take to come
// up on a loaded machine; filers join the masters after several seconds.
const clusterStart = 120 * time.Second

func startCluster(bin string) (*Cluster, error) {
	dir, err := os.MkdirTemp("", "ferry-weed-cluster-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Store: &Store{Bucket: "ferry", AccessKey: "ferrytest", SecretKey: "ferrytestsecret", Dir: dir}}
	// The gateway's identities: ferry's key may do everything in any bucket.
	conf := fmt.Sprintf(`{"identities":[{"name":"ferry","credentials":[{"accessKey":%q,"secretKey":%q}],"actions":["Admin","Read","List","Tagging","Write"]}]}`,
		c.AccessKey, c.SecretKey)
	if err := os.WriteFile(filepath.Join(dir, "s3.json"), []byte(conf), 0o600); err != nil {
		return nil, err
	}
	newProc := func(name string, args ...string) *proc {
		os.MkdirAll(filepath.Join(dir, name), 0o755)
		p := &proc{name: name, bin: bin, args: args, logPath: filepath.Join(dir, name+".log")}
		c.procs = append(c.procs, p)
		return p
	}
	loopback := []string{"-ip=127.0.0.1", "-ip.bind=127.0.0.1"}
	var free ports
	// Masters are named host:port.grpcPort in -peers and -master.
	var peers []string
	grpc := map[int]int{}
	for range 3 {
		port, g := free.next(), free.next()
		c.masterPorts = append(c.masterPorts, port)
		grpc[port] = g
		peers = append(peers, fmt.Sprintf("127.0.0.1:%d.%d", port, g))
	}
	peerList := strings.Join(peers, ",")
	for i, port := range c.masterPorts {
		name := "master" + strconv.Itoa(i+1)
		c.masters = append(c.masters, newProc(name, append([]string{"master",
			"-port=" + strconv.Itoa(port), "-port.grpc=" + strconv.Itoa(grpc[port]),
			"-mdir=" + filepath.Join(dir, name), "-peers=" + peerList,
			"-telemetry=false", "-defaultReplication=001",
			// A restarted cluster elects its leader in seconds, not ten.
			"-electionTimeout=3s",
			// Small volumes, not preallocated: the cluster's disk and
			// memory stay those of what the test writes.
			"-volumeSizeLimitMB=64", "-volumePreallocate=false",
		}, loopback...)...))
	}
	for i := range 3 {
		name := "volume" + strconv.Itoa(i+1)
		port := free.next()
		c.volumePorts = append(c.volumePorts, port)
		c.volumes = append(c.volumes, newProc(name, append([]string{"volume",
			"-port=" + strconv.Itoa(port), "-port.grpc=" + strconv.Itoa(free.next()),
			"-dir=" + filepath.Join(dir, name), "-master=" + peerList,
			"-max=8", "-index=memory",
			// A stop is a stop: no grace period for the master to notice.
			"-preStopSeconds=0",
		}, loopback...)...))
	}
	var filerAddrs []string
	for i := range 2 {
		name := "filer" + strconv.Itoa(i+1)
		port, g := free.next(), free.next()
		c.filerPorts = append(c.filerPorts, port)
		filerAddrs = append(filerAddrs, fmt.Sprintf("127.0.0.1:%d.%d", port, g))
		c.filers = append(c.filers, newProc(name, append([]string{"filer",
			"-port=" + strconv.Itoa(port), "-port.grpc=" + strconv.Itoa(g),
			"-master=" + peerList, "-defaultStoreDir=" + filepath.Join(dir, name),
		}, loopback...)...))
	}
	s3port := free.next()
	c.Endpoint = "http://127.0.0.1:" + strconv.Itoa(s3port)
	c.gateway = newProc("s3", append([]string{"s3",
		"-port=" + strconv.Itoa(s3port), "-port.grpc=" + strconv.Itoa(free.next()),
		"-port.iceberg=0", "-port.lance=0",
		// No chunk cache: a read after a volume server is lost must reach
		// the copy on another, not memory.
		"-cacheCapacityMB=0",
		"-filer=" + strings.Join(filerAddrs, ","), "-config=" + filepath.Join(dir, "s3.json"),
	}, loopback...)...)
	free.release()
	if err := c.startAll(true); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// startAll starts every process, in the order a cluster comes up, waiting
// for each tier before the next; create makes the bucket.
func (c *Cluster) startAll(create bool) error {
	deadline := time.Now().Add(clusterStart)
	left := func() time.Duration { return time.Until(deadline) }
	for _, p := range c.masters {
		if err := p.start(); err != nil {
			return err
		}
	}
	if err := c.waitMasters(left()); err != nil {
		return err
	}
	for _, p := range c.volumes {
		if err := p.start(); err != nil {
			return err
		}
	}
	if err := c.waitVolumes(left(), c.volumePorts...); err != nil {
		return err
	}
	for _, p := range c.filers {
		if err := p.start(); err != nil {
			return err
		}
	}
	for i, p := range c.filers {
		if err := waitFor(left(), c.httpOK(p, c.filerPorts[i], "/healthz")); err != nil {
			return fmt.Errorf("filer %d not ready: %v\n%s", i+1, err, p.tail())
		}
	}
	if err := c.gateway.start(); err != nil {
		return err
	}
	if err := waitFor(left(), func() error { return c.probe(create) }); err != nil {
		return fmt.Errorf("the S3 gateway does not take writes: %v\n%s", err, c.gateway.tail())
	}
	return nil
}

// waitMasters waits until every master knows the leader.
func (c *Cluster) waitMasters(d time.Duration) error {
	deadline := time.Now().Add(d)
	for i, p := range c.masters {
		if err := waitFor(time.Until(deadline), c.httpOK(p, c.masterPorts[i], "/readyz")); err != nil {
			return fmt.Errorf("master %d knows no leader: %v\n%s", i+1, err, p.tail())
		}
	}
	return nil
}

// waitVolumes waits until the leading master lists every given volume server.
func (c *Cluster) waitVolumes(d time.Duration, ports ...int) error {
	err := waitFor(d, func() error {
		body, err := get(fmt.Sprintf("http://127.0.0.1:%d/dir/status", c.masterPorts[0]))
		if err != nil {
			return err
		}
		for _, port := range ports {
			if !strings.Contains(body, fmt.Sprintf("127.0.0.1:%d", port)) {
				return fmt.Errorf("volume server :%d has not joined", port)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%v\n%s", err, c.masters[0].tail())
	}
	return nil
}

func (c *Cluster) httpOK(p *proc, port int, path string) func() error {
	return func() error {
		if !p.running() {
			return errExited
		}
		_, err := get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
		return err
	}
}

func get(url string) (string, error) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", url, resp.Status)
	}
	return string(b), err
}

// probe writes, reads and deletes an object through the gateway: the whole
// path, masters to volumes, works.
func (c *Cluster) probe(create bool) error {
	if !c.gateway.running() {
		return errExited
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s3c := c.Client()
	if create {
		_, err := s3c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: &c.Bucket})
		var ae smithy.APIError
		if err != nil && !(errors.As(err, &ae) && strings.HasPrefix(ae.ErrorCode(), "BucketAlready")) {
			return err
		}
	}
	key := aws.String("weedtest-probe")
	if _, err := s3c.PutObject(ctx, &awss3.PutObjectInput{Bucket: &c.Bucket, Key: key, Body: strings.NewReader("probe")}); err != nil {
		return err
	}
	out, err := s3c.GetObject(ctx, &awss3.GetObjectInput{Bucket: &c.Bucket, Key: key})
	if err != nil {
		return err
	}
	b, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || string(b) != "probe" {
		return fmt.Errorf("probe read back %q, %v", b, err)
	}
	_, err = s3c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &c.Bucket, Key: key})
	return err
}

// Volumes is the number of volume servers.
func (c *Cluster) Volumes() int { return len(c.volumes) }

// VolumeBytes is the size of the data volume server i holds on disk.
func (c *Cluster) VolumeBytes(i int) int64 {
	var n int64
	found, _ := filepath.Glob(filepath.Join(c.Dir, c.volumes[i].name, "*.dat"))
	for _, f := range found {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return n
}

// StopVolume kills volume server i without warning, as when its machine is
// lost: the masters learn of it only when its heartbeats stop.
func (c *Cluster) StopVolume(t testing.TB, i int) {
	t.Helper()
	c.volumes[i].signal(os.Kill, 10*time.Second)
}

// StartVolume starts volume server i again and waits until the masters list it.
func (c *Cluster) StartVolume(t testing.TB, i int) {
	t.Helper()
	if err := c.volumes[i].start(); err != nil {
		t.Fatal(err)
	}
	if err := c.waitVolumes(clusterStart, c.volumePorts[i]); err != nil {
		t.Fatal(err)
	}
}

// FreezeGateway stops the S3 gateway's process without closing its
// connections (SIGSTOP), as a store that hangs; ThawGateway resumes it.
func (c *Cluster) FreezeGateway(t testing.TB) { c.gateway.cmd.Process.Signal(syscall.SIGSTOP) }
func (c *Cluster) ThawGateway(t testing.TB)   { c.gateway.cmd.Process.Signal(syscall.SIGCONT) }

// StopStore kills every process of the cluster at once, as when its
// machines lose power (a filer asked to stop waits seconds for masters that
// are stopping too); what they wrote stays for StartStore.
func (c *Cluster) StopStore(t testing.TB) {
	t.Helper()
	c.kill()
}

func (c *Cluster) kill() {
	var wg sync.WaitGroup
	for _, p := range c.procs {
		wg.Go(func() { p.signal(os.Kill, 10*time.Second) })
	}
	wg.Wait()
}

// Stop ends the cluster and removes its data.
func (c *Cluster) Stop() {
	c.kill()
	c.Store.Stop()
}

// StartStore starts a stopped cluster again on the same ports and data, and
// waits until its gateway takes writes.
func (c *Cluster) StartStore(t testing.TB) {
	t.Helper()
	if err := c.startAll(false); err != nil {
		t.Fatal(err)
	}
}
