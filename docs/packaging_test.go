// Package docs holds ferry's documents; its tests check the packaging
// examples, which cannot be built or started here: the systemd unit and the
// Containerfile must stay well-formed and call ferry with flags it has.
package docs

import (
	"bufio"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ferry-sh/ferry/internal/cli"
)

// checkArgs fails when ferry would refuse args as a command line: an
// unknown command or flag, or a bad value for a flag's type.
func checkArgs(t *testing.T, where string, args []string) {
	t.Helper()
	root := cli.Command()
	cmd, rest, err := root.Find(args)
	if err == nil {
		err = cmd.ParseFlags(rest)
	}
	if err != nil {
		t.Errorf("%s: ferry %s: %v", where, strings.Join(args, " "), err)
	}
}

type unit map[string]map[string][]string // section → key → values

// parseUnit reads a systemd unit file as systemd does: [Section] headers,
// Key=Value lines, '#' and ';' comments, a trailing backslash continuing
// a line.
func parseUnit(t *testing.T, text string) unit {
	t.Helper()
	u := unit{}
	section := ""
	var pending string
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if pending != "" {
			line, pending = pending+" "+line, ""
		}
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			pending = strings.TrimSuffix(line, `\`)
			continue
		}
		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") {
				t.Fatalf("line %d: bad section header %q", n+1, line)
			}
			section = line[1 : len(line)-1]
			if u[section] != nil {
				t.Errorf("line %d: section [%s] twice", n+1, section)
			}
			u[section] = map[string][]string{}
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || section == "" || strings.TrimSpace(key) == "" {
			t.Fatalf("line %d: %q is not Key=Value inside a section", n+1, line)
		}
		key = strings.TrimSpace(key)
		u[section][key] = append(u[section][key], strings.TrimSpace(value))
	}
	return u
}

func (u unit) one(t *testing.T, section, key string) string {
	t.Helper()
	v := u[section][key]
	if len(v) != 1 {
		t.Errorf("[%s] %s: %d values, want 1", section, key, len(v))
		return ""
	}
	return v[0]
}

func TestSystemdUnit(t *testing.T) {
	data, err := os.ReadFile("ferry.service")
	if err != nil {
		t.Fatal(err)
	}
	u := parseUnit(t, string(data))
	for _, s := range []string{"Unit", "Service", "Install"} {
		if u[s] == nil {
			t.Errorf("no [%s] section", s)
		}
	}
	for key, want := range map[string]string{
		"DynamicUser":     "yes",
		"ProtectSystem":   "strict",
		"ProtectHome":     "yes",
		"NoNewPrivileges": "yes",
		"PrivateTmp":      "yes",
	} {
		if got := u.one(t, "Service", key); got != want {
			t.Errorf("[Service] %s=%s, want %s", key, got, want)
		}
	}
	// With ProtectSystem=strict nothing is writable unless named: the
	// shared folder must be, for uploads.
	exec := strings.Fields(u.one(t, "Service", "ExecStart"))
	if len(exec) == 0 || !strings.HasPrefix(exec[0], "/") || !strings.HasSuffix(exec[0], "/ferry") {
		t.Fatalf("ExecStart=%v: want an absolute path to ferry", exec)
	}
	served := exec[len(exec)-1]
	if rw := u.one(t, "Service", "ReadWritePaths"); rw != served {
		t.Errorf("ReadWritePaths=%s, but ExecStart serves %s", rw, served)
	}
	checkArgs(t, "ExecStart", exec[1:])
	// The reverse-proxy variant in the comments must run as well.
	for _, m := range regexp.MustCompile(`(?m)^#\s+ExecStart=(.*)$`).FindAllStringSubmatch(string(data), -1) {
		args := strings.Fields(m[1])
		checkArgs(t, "commented ExecStart", args[1:])
		if !strings.Contains(m[1], "unix:/run/ferry/") || u.one(t, "Service", "RuntimeDirectory") != "ferry" {
			t.Errorf("the socket variant's path is not under RuntimeDirectory=ferry: %s", m[1])
		}
	}
	// Environment names ferry's own variables.
	for _, env := range u["Service"]["Environment"] {
		name, _, _ := strings.Cut(env, "=")
		flag := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, "FERRY_"), "_", "-"))
		if !strings.HasPrefix(name, "FERRY_") || cli.Command().Flags().Lookup(flag) == nil {
			t.Errorf("Environment=%s: not a FERRY_ variable of a flag", env)
		}
	}
	if u.one(t, "Install", "WantedBy") == "" {
		t.Errorf("no WantedBy")
	}
}

type instruction struct {
	line int
	op   string // upper case
	args string
}

// parseContainerfile reads instructions: comments and blank lines skipped,
// backslash continuations joined.
func parseContainerfile(t *testing.T, text string) []instruction {
	t.Helper()
	var out []instruction
	sc := bufio.NewScanner(strings.NewReader(text))
	n, start := 0, 0
	var cur string
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if cur == "" && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur == "" {
			start = n
		}
		if strings.HasSuffix(line, `\`) {
			cur += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		cur += line
		op, args, _ := strings.Cut(cur, " ")
		out = append(out, instruction{start, strings.ToUpper(op), strings.TrimSpace(args)})
		cur = ""
	}
	return out
}

func execForm(t *testing.T, in instruction) []string {
	t.Helper()
	var args []string
	if err := json.Unmarshal([]byte(in.args), &args); err != nil {
		t.Errorf("line %d: %s %s: want the exec form, a JSON array (signals reach ferry, no shell): %v", in.line, in.op, in.args, err)
	}
	return args
}

func TestContainerfile(t *testing.T) {
	data, err := os.ReadFile("Containerfile")
	if err != nil {
		t.Fatal(err)
	}
	goMod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(goMod)
	if goVersion == nil {
		t.Fatal("no go directive in go.mod")
	}

	type stage struct {
		name, image string
		ins         []instruction
	}
	var stages []*stage
	for _, in := range parseContainerfile(t, string(data)) {
		switch in.op {
		case "FROM":
			f := strings.Fields(in.args)
			s := &stage{image: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
		case "ARG":
		default:
			if len(stages) == 0 {
				t.Fatalf("line %d: %s before FROM", in.line, in.op)
			}
			stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a run stage", len(stages))
	}
	build, run := stages[0], stages[len(stages)-1]
	if build.name == "" {
		t.Errorf("the build stage has no name (FROM ... AS build)")
	}
	if want := "golang:" + string(goVersion[1]); !strings.Contains(build.image, want) {
		t.Errorf("build stage FROM %s, want %s (go.mod says go %s)", build.image, want, goVersion[1])
	}

	// The build: static, reproducible, of ./cmd/ferry, to a path the run
	// stage copies.
	out := ""
	for _, in := range build.ins {
		if in.op != "RUN" || !strings.Contains(in.args, "go build") {
			continue
		}
		for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/ferry"} {
			if !strings.Contains(in.args, want) {
				t.Errorf("line %d: the go build lacks %s: %s", in.line, want, in.args)
			}
		}
		if strings.Contains(in.args, "-buildvcs=false") {
			t.Errorf("line %d: -buildvcs=false drops the version", in.line)
		}
		if m := regexp.MustCompile(`-o\s+(\S+)`).FindStringSubmatch(in.args); m != nil {
			out = m[1]
		}
	}
	if out == "" {
		t.Fatalf("no 'go build -o PATH' in the build stage")
	}

	var copied, entry string
	var entrypoint, cmd []string
	user := ""
	for _, in := range run.ins {
		switch in.op {
		case "COPY":
			f := strings.Fields(in.args)
			if len(f) == 3 && f[0] == "--from="+build.name && f[1] == out {
				copied = f[2]
			}
		case "ENTRYPOINT":
			entrypoint = execForm(t, in)
		case "CMD":
			cmd = execForm(t, in)
		case "USER":
			user = in.args
		case "RUN":
			t.Errorf("line %d: RUN in the run stage (a distroless image has no shell)", in.line)
		}
	}
	if copied == "" {
		t.Fatalf("the run stage does not COPY --from=%s %s", build.name, out)
	}
	if len(entrypoint) > 0 {
		entry = entrypoint[0]
	}
	if entry != copied {
		t.Errorf("ENTRYPOINT %v, want the copied binary %s", entrypoint, copied)
	}
	if u, _, _ := strings.Cut(user, ":"); u == "" || u == "root" || u == "0" {
		t.Errorf("USER %q: run as a user without privileges", user)
	}
	checkArgs(t, "ENTRYPOINT and CMD", append(entrypoint[1:], cmd...))
}
