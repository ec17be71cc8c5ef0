package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The files under test, relative to this package's directory.
const (
	dockerfile   = "../Dockerfile"
	dockerignore = "../.dockerignore"
	systemdUnit  = "systemd/smartlaunch.service"
	k8sManifest  = "kubernetes/smartlaunch.yaml"
	operations   = "../docs/operations.md"
)

// commands are smartlaunch's commands; those with subcommands list them.
var commands = map[string][]string{
	"serve": nil, "migrate": nil, "version": nil,
	"keys":   {"list", "rotate"},
	"client": {"add", "list", "show", "update", "remove", "rotate-secret"},
	"user":   {"add"},
	"config": {"check"},
	"audit":  {"export"},
	"scopes": {"explain", "lint"},
}

// flags maps a command ("serve", "keys rotate") to its flags, each to
// whether it is boolean (takes no value). Filled by TestMain from the
// binary's -h output.
var flags = map[string]map[string]bool{}

// usage is the binary's list of commands.
var usage string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "smartlaunch-deploy-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if err := loadFlags(filepath.Join(dir, "smartlaunch")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}())
}

// loadFlags builds the binary as the Dockerfile does (static, no cgo) and
// reads every command's flags from its -h output.
func loadFlags(bin string) error {
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=deploy-test", "-o", bin, "../cmd/smartlaunch")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("CGO_ENABLED=0 go build ./cmd/smartlaunch: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "help").CombinedOutput()
	if err != nil {
		return fmt.Errorf("smartlaunch help: %v\n%s", err, out)
	}
	usage = string(out)
	flagLine := regexp.MustCompile(`^  -([A-Za-z0-9][A-Za-z0-9-]*)(?: (\S+))?$`)
	for cmd, subs := range commands {
		names := []string{cmd}
		if subs != nil {
			names = nil
			for _, s := range subs {
				names = append(names, cmd+" "+s)
			}
		}
		for _, name := range names {
			fs := map[string]bool{}
			flags[name] = fs
			if name == "version" { // takes no flags
				continue
			}
			out, _ := exec.Command(bin, append(strings.Fields(name), "-h")...).CombinedOutput() // -h exits 2
			if !strings.Contains(string(out), "Usage of "+name+":") {
				return fmt.Errorf("smartlaunch %s -h printed no usage:\n%s", name, out)
			}
			for _, l := range strings.Split(string(out), "\n") {
				if m := flagLine.FindStringSubmatch(l); m != nil {
					fs[m[1]] = m[2] == ""
				}
			}
		}
	}
	return nil
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// invocation is one smartlaunch command line found in a file.
type invocation struct {
	where string            // file, for messages
	cmd   string            // "serve", "keys rotate"
	flags map[string]string // flag name to value ("" for a boolean)
	args  []string
	help  bool // -h: the usage only
}

func (inv invocation) has(f string) bool { _, ok := inv.flags[f]; return ok }

// parse checks args (the words after the binary) against the binary's
// commands and flags and returns them as an invocation.
func parse(t *testing.T, where string, args []string) invocation {
	t.Helper()
	inv := invocation{where: where, flags: map[string]string{}}
	if len(args) == 0 {
		t.Errorf("%s: smartlaunch with no command", where)
		return inv
	}
	subs, ok := commands[args[0]]
	if !ok {
		t.Errorf("%s: smartlaunch has no command %q", where, args[0])
		return inv
	}
	inv.cmd, args = args[0], args[1:]
	if subs != nil {
		if len(args) == 0 || !contains(subs, args[0]) {
			t.Errorf("%s: smartlaunch %s needs one of %v, got %q", where, inv.cmd, subs, args)
			return inv
		}
		inv.cmd, args = inv.cmd+" "+args[0], args[1:]
	}
	fs := flags[inv.cmd]
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-h" || a == "--help" {
			inv.help = true
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			inv.args = args[i:]
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		isBool, ok := fs[name]
		if !ok {
			t.Errorf("%s: smartlaunch %s has no flag --%s", where, inv.cmd, name)
			continue
		}
		if !isBool && !hasValue {
			if i+1 == len(args) {
				t.Errorf("%s: smartlaunch %s --%s needs a value", where, inv.cmd, name)
				break
			}
			i++
			value = args[i]
		}
		inv.flags[name] = value
	}
	return inv
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// words splits one shell command line into words, honouring quotes.
func words(line string) []string {
	var out []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// logicalLines joins lines continued with a backslash.
func logicalLines(text string) []string {
	var out []string
	var cur strings.Builder
	for _, l := range strings.Split(text, "\n") {
		if strings.HasSuffix(strings.TrimSpace(l), `\`) {
			cur.WriteString(strings.TrimSuffix(strings.TrimSpace(l), `\`) + " ")
			continue
		}
		cur.WriteString(l)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

// image is the container image built by the Dockerfile, as the docs name
// it: its entrypoint is "smartlaunch serve ...".
var image = regexp.MustCompile(`^smartlaunch:[A-Za-z0-9_.-]+$`)

// shellInvocations finds the smartlaunch command lines in shell text: the
// binary (smartlaunch or a path ending in /smartlaunch) followed by one of
// its commands, or the image in a docker run line.
func shellInvocations(t *testing.T, where, text string) []invocation {
	t.Helper()
	var out []invocation
	for _, line := range logicalLines(text) {
		if i := strings.Index(line, " #"); i >= 0 { // a trailing comment
			line = line[:i]
		}
		ws := words(line)
		for i, w := range ws {
			rest := ws[i+1:]
			switch {
			case image.MatchString(w) && contains(ws[:i], "run"):
				if !contains(ws[:i], "--entrypoint") {
					rest = append([]string{"serve"}, rest...)
				}
			case w == "smartlaunch" || strings.HasSuffix(w, "/smartlaunch"):
				if len(rest) == 0 {
					continue
				}
				if _, ok := commands[rest[0]]; !ok {
					continue // the word or a directory, not a command line
				}
			default:
				continue
			}
			out = append(out, parse(t, where+": "+strings.TrimSpace(line), rest))
		}
	}
	return out
}

// anyFlag matches every --flag in a text.
var anyFlag = regexp.MustCompile("(?:^|[\\s\"'`(\\[])--([a-z][a-z0-9-]*)")

// otherTools are flags of the other commands the files show (docker,
// useradd, pg_dump), which are not smartlaunch's.
var otherTools = map[string]bool{
	"read-only": true, "tmpfs": true, "rm": true, "entrypoint": true, "build-arg": true,
	"system": true, "user-group": true, "home-dir": true, "shell": true,
	"format": true, "from": true, "chown": true, "now": true, "from-literal": true,
}

// checkEveryFlag says whether every --flag in text is some command's flag
// (or one of otherTools).
func checkEveryFlag(t *testing.T, where, text string) {
	t.Helper()
	for _, m := range anyFlag.FindAllStringSubmatch(text, -1) {
		known := otherTools[m[1]]
		for _, fs := range flags {
			if _, ok := fs[m[1]]; ok {
				known = true
			}
		}
		if !known {
			t.Errorf("%s: --%s is no flag of smartlaunch", where, m[1])
		}
	}
}

func TestBinaryCommands(t *testing.T) {
	for cmd := range commands {
		if !regexp.MustCompile(`\s` + cmd + `\s`).MatchString(usage) {
			t.Errorf("smartlaunch's usage lists no command %q: update commands in this test", cmd)
		}
	}
	if len(flags["serve"]) < 20 {
		t.Errorf("read only %d serve flags", len(flags["serve"]))
	}
}

// stages splits a Dockerfile into its stages, each starting at FROM.
func stages(text string) [][]string {
	var out [][]string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(strings.ToUpper(l), "FROM ") {
			out = append(out, nil)
		}
		if len(out) > 0 {
			out[len(out)-1] = append(out[len(out)-1], l)
		}
	}
	return out
}

func TestDockerfile(t *testing.T) {
	text := read(t, dockerfile)
	st := stages(text)
	if len(st) < 2 {
		t.Fatalf("want a multi-stage build, got %d stages", len(st))
	}
	build, final := strings.Join(st[0], "\n"), st[len(st)-1]

	// The build stage: the Go of go.mod, a static and versioned binary.
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(read(t, "../go.mod"))
	argGo := regexp.MustCompile(`(?m)^ARG GO_VERSION=(\d+\.\d+)`).FindStringSubmatch(text)
	if goVersion == nil || argGo == nil || argGo[1] != goVersion[1] {
		t.Errorf("ARG GO_VERSION=%v, want go.mod's %v", argGo, goVersion)
	}
	for _, want := range []string{"FROM golang:${GO_VERSION}", "CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w -X main.version=${VERSION}"`, "./cmd/smartlaunch"} {
		if !strings.Contains(build, want) {
			t.Errorf("build stage lacks %q", want)
		}
	}
	if !regexp.MustCompile(`(?m)^var version = `).MatchString(read(t, "../cmd/smartlaunch/main.go")) {
		t.Error("cmd/smartlaunch has no var version for -X main.version")
	}

	// The final stage: minimal, non-root, /data a volume, port 8080.
	from := strings.Fields(final[0])[1]
	if !strings.HasPrefix(from, "gcr.io/distroless/static") && from != "scratch" {
		t.Errorf("final stage FROM %s, want distroless static or scratch", from)
	}
	var user, entrypoint string
	var exposed, volume bool
	for _, l := range final {
		kw, rest, _ := strings.Cut(l, " ")
		switch strings.ToUpper(kw) {
		case "USER":
			user = strings.TrimSpace(rest)
		case "EXPOSE":
			exposed = exposed || contains(strings.Fields(rest), "8080")
		case "VOLUME":
			volume = volume || strings.Contains(rest, "/data")
		case "ENTRYPOINT":
			entrypoint = rest
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("final stage USER %q, want a numeric non-root user", user)
	}
	if !exposed || !volume {
		t.Errorf("final stage: EXPOSE 8080 %v, VOLUME /data %v", exposed, volume)
	}
	var ep []string
	if err := json.Unmarshal([]byte(entrypoint), &ep); err != nil || len(ep) == 0 || !strings.HasSuffix(ep[0], "/smartlaunch") {
		t.Fatalf("ENTRYPOINT %s: want the exec form running smartlaunch (%v)", entrypoint, err)
	}
	inv := parse(t, "Dockerfile ENTRYPOINT", ep[1:])
	if inv.cmd != "serve" || inv.flags["addr"] != ":8080" || inv.flags["data"] != "/data" {
		t.Errorf("ENTRYPOINT %v, want serve --addr :8080 --data /data", ep)
	}
	// The examples in its comments.
	if n := len(shellInvocations(t, "Dockerfile", uncomment(text))); n < 2 {
		t.Errorf("Dockerfile comments: found %d smartlaunch command lines, want the docker run examples", n)
	}
	checkEveryFlag(t, "Dockerfile", text)
}

// uncomment removes the "#" starting lines, so examples in comments parse.
func uncomment(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(l), "#"), " ")
	}
	return strings.Join(lines, "\n")
}

func TestDockerignoreKeepsTheBuildInputs(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", "../cmd/smartlaunch").Output()
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	need := []string{"go.mod", "go.sum"}
	for _, d := range strings.Fields(string(out)) {
		if rel, err := filepath.Rel(root, d); err == nil && !strings.HasPrefix(rel, "..") {
			need = append(need, filepath.ToSlash(rel))
		}
	}
	for _, p := range strings.Split(read(t, dockerignore), "\n") {
		p = strings.TrimPrefix(strings.TrimSpace(p), "/")
		if p == "" || strings.HasPrefix(p, "#") || strings.HasPrefix(p, "!") {
			continue
		}
		for _, n := range need {
			if ignores(p, n) {
				t.Errorf(".dockerignore %q excludes %s, which the build needs", p, n)
			}
		}
	}
}

// ignores says whether the .dockerignore pattern p excludes path or one of
// its parents ("**/" matching any leading directories).
func ignores(p, path string) bool {
	parts := strings.Split(path, "/")
	for i := 1; i <= len(parts); i++ {
		prefix := strings.Join(parts[:i], "/")
		if ok, _ := filepath.Match(p, prefix); ok {
			return true
		}
		if rest, ok := strings.CutPrefix(p, "**/"); ok {
			if m, _ := filepath.Match(rest, parts[i-1]); m {
				return true
			}
		}
	}
	return false
}

// directives are a systemd unit's active settings, key to values in order.
func directives(text string) map[string][]string {
	out := map[string][]string{}
	for _, l := range logicalLines(text) {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";") || strings.HasPrefix(l, "[") {
			continue
		}
		k, v, _ := strings.Cut(l, "=")
		out[k] = append(out[k], strings.TrimSpace(v))
	}
	return out
}

func TestSystemdUnit(t *testing.T) {
	text := read(t, systemdUnit)
	d := directives(text)
	for k, want := range map[string]string{
		"StateDirectory": "smartlaunch", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
		"ProtectHome": "yes", "PrivateTmp": "yes", "Restart": "on-failure", "CapabilityBoundingSet": "",
	} {
		if !contains(d[k], want) {
			t.Errorf("%s=%v, want %q", k, d[k], want)
		}
	}
	if d["User"] == nil && !contains(d["DynamicUser"], "yes") {
		t.Error("no User= and no DynamicUser=yes: the service would run as root")
	}
	if !contains(d["EnvironmentFile"], "-/etc/smartlaunch/smartlaunch.env") || !strings.Contains(text, "SMARTLAUNCH_DATABASE_URL_FILE=") {
		t.Error("want an EnvironmentFile= for SMARTLAUNCH_DATABASE_URL_FILE")
	}
	if ts := d["TimeoutStopSec"]; len(ts) != 1 || !(strings.HasSuffix(ts[0], "s") && atoi(strings.TrimSuffix(ts[0], "s")) > 10) {
		t.Errorf("TimeoutStopSec=%v, want more than the server's 10 s drain", ts)
	}

	// The active ExecStart: production, with TLS or behind a TLS proxy,
	// and a low port only with the capability to bind it.
	execs := d["ExecStart"]
	if len(execs) != 1 {
		t.Fatalf("ExecStart=%v, want one", execs)
	}
	active := shellInvocations(t, "ExecStart", execs[0])
	if len(active) != 1 || active[0].cmd != "serve" {
		t.Fatalf("ExecStart=%s: want smartlaunch serve", execs[0])
	}
	lowPort := false
	if _, port, err := splitPort(active[0].flags["addr"]); err == nil && port < 1024 {
		lowPort = true
	}
	if lowPort != contains(d["AmbientCapabilities"], "CAP_NET_BIND_SERVICE") {
		t.Errorf("--addr %s with AmbientCapabilities=%v", active[0].flags["addr"], d["AmbientCapabilities"])
	}

	// Every serve line, the commented alternative included.
	all := shellInvocations(t, systemdUnit, uncomment(text))
	serves := 0
	for _, inv := range all {
		if inv.cmd != "serve" {
			continue
		}
		serves++
		if !inv.has("production") || !(inv.has("behind-tls-proxy") || inv.has("tls-cert") && inv.has("tls-key")) {
			t.Errorf("%s: want --production and TLS (--tls-cert and --tls-key) or --behind-tls-proxy", inv.where)
		}
		if inv.flags["data"] != "${STATE_DIRECTORY}" {
			t.Errorf("%s: want --data ${STATE_DIRECTORY}", inv.where)
		}
	}
	if serves < 2 {
		t.Errorf("found %d serve lines, want the active one and the TLS alternative", serves)
	}
	checkEveryFlag(t, systemdUnit, text)
}

func splitPort(addr string) (string, int, error) {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return "", 0, fmt.Errorf("no port in %q", addr)
	}
	p, err := strconv.Atoi(addr[i+1:])
	return addr[:i], p, err
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// yamlDoc is one document of the manifest: its kind and its text.
type yamlDoc struct{ kind, text string }

func manifestDocs(t *testing.T, text string) []yamlDoc {
	t.Helper()
	if strings.Contains(text, "\t") {
		t.Error("tab in the YAML")
	}
	var docs []yamlDoc
	for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(text, -1) {
		api := regexp.MustCompile(`(?m)^apiVersion: \S+$`).FindAllString(doc, -1)
		kind := regexp.MustCompile(`(?m)^kind: (\S+)$`).FindAllStringSubmatch(doc, -1)
		name := regexp.MustCompile(`(?m)^metadata:\n(?:  #.*\n)*  name: \S+$`).FindString(doc)
		if len(api) != 1 || len(kind) != 1 || name == "" {
			t.Errorf("document %d: want one apiVersion, one kind and metadata.name at its top", i)
			continue
		}
		docs = append(docs, yamlDoc{kind[0][1], doc})
	}
	return docs
}

// flowArrays returns the values of "key: [...]" flow sequences (quoted
// strings, as JSON), in order, spanning lines.
func flowArrays(t *testing.T, text, key string) [][]string {
	t.Helper()
	var out [][]string
	re := regexp.MustCompile(`(?ms)^\s*` + key + `: (\[.*?\])`)
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		var a []string
		if err := json.Unmarshal([]byte(m[1]), &a); err != nil {
			t.Errorf("%s: %s: %v", key, m[1], err)
		}
		out = append(out, a)
	}
	return out
}

func TestKubernetesManifest(t *testing.T) {
	text := read(t, k8sManifest)
	docs := manifestDocs(t, text)
	kinds := map[string][]string{}
	for _, d := range docs {
		kinds[d.kind] = append(kinds[d.kind], d.text)
	}
	if len(kinds["Deployment"]) != 1 || len(kinds["StatefulSet"]) != 1 || len(kinds["Job"]) != 1 || len(kinds["Service"]) != 2 {
		t.Fatalf("kinds %v: want a Deployment, a StatefulSet, a Job and two Services", keys(kinds))
	}

	// The smartlaunch containers: command then args.
	smartlaunch := func(doc string) invocation {
		cmds, args := flowArrays(t, doc, "command"), flowArrays(t, doc, "args")
		if len(cmds) == 0 || len(args) == 0 || !strings.HasSuffix(cmds[0][0], "/smartlaunch") {
			t.Fatalf("no smartlaunch command and args in\n%s", doc)
		}
		return parse(t, k8sManifest, append(cmds[0][1:], args[0]...))
	}
	dep := kinds["Deployment"][0]
	serve := smartlaunch(dep)
	if serve.cmd != "serve" || serve.flags["migrate"] != "off" || !serve.has("production") || !serve.has("behind-tls-proxy") ||
		!strings.HasPrefix(serve.flags["base-url"], "https://") || serve.flags["addr"] != ":8080" {
		t.Errorf("Deployment runs %s %v: want serve --addr :8080 --migrate=off --production --behind-tls-proxy --base-url https://...", serve.cmd, serve.flags)
	}
	if !strings.HasPrefix(serve.flags["key-encryption-key-file"], "/run/secrets/") {
		t.Errorf("Deployment runs serve %v: want the signing keys encrypted at rest (--key-encryption-key-file /run/secrets/...)", serve.flags)
	}
	if job := smartlaunch(kinds["Job"][0]); job.cmd != "migrate" {
		t.Errorf("the Job runs %s, want migrate", job.cmd)
	}
	for _, want := range []string{
		"replicas: 2", "runAsNonRoot: true", "readOnlyRootFilesystem: true", `drop: ["ALL"]`,
		"allowPrivilegeEscalation: false", "livenessProbe:", "readinessProbe:", "path: /healthz", "path: /readyz",
		"containerPort: 8080", "name: SMARTLAUNCH_DATABASE_URL_FILE", "secretName: smartlaunch-database",
		"secretName: smartlaunch-key-encryption", "runAsUser: " + dockerUser(t),
	} {
		if !strings.Contains(dep, want) {
			t.Errorf("Deployment lacks %q", want)
		}
	}
	if !strings.Contains(kinds["Job"][0], "name: SMARTLAUNCH_DATABASE_URL_FILE") {
		t.Error("the Job is not given the database")
	}
	pg := kinds["StatefulSet"][0]
	for _, want := range []string{"image: postgres:16", "volumeClaimTemplates:", "secretKeyRef:"} {
		if !strings.Contains(pg, want) {
			t.Errorf("StatefulSet lacks %q", want)
		}
	}
	checkEveryFlag(t, k8sManifest, text)
}

// dockerUser is the numeric user of the image's final stage.
func dockerUser(t *testing.T) string {
	m := regexp.MustCompile(`(?m)^USER (\d+)`).FindAllStringSubmatch(read(t, dockerfile), -1)
	if m == nil {
		t.Fatal("Dockerfile: no numeric USER")
	}
	return m[len(m)-1][1]
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// code is a piece of code in Markdown: a fenced block or an inline span.
type code struct {
	text   string
	fenced bool
}

// codeOf returns the code of a Markdown text.
func codeOf(md string) []code {
	var out []code
	fence := regexp.MustCompile("(?ms)^\\s*```[a-z]*\\n(.*?)^\\s*```")
	for _, m := range fence.FindAllStringSubmatch(md, -1) {
		out = append(out, code{m[1], true})
	}
	prose := fence.ReplaceAllString(md, "")
	for _, m := range regexp.MustCompile("`([^`\n]+)`").FindAllStringSubmatch(prose, -1) {
		out = append(out, code{m[1], false})
	}
	return out
}

func TestOperationsDoc(t *testing.T) {
	text := read(t, operations)
	seen := map[string]bool{}
	for _, c := range codeOf(text) {
		for _, inv := range shellInvocations(t, "docs/operations.md", c.text) {
			seen[inv.cmd] = true
			// Every serve command line to copy is a production one (the
			// image's entrypoint, spelled out in prose, is not).
			if c.fenced && inv.cmd == "serve" && !inv.help && !inv.has("production") {
				t.Errorf("%s: a production page's serve without --production", inv.where)
			}
		}
	}
	for _, want := range []string{"serve", "migrate", "keys rotate", "keys list", "client list", "config check", "audit export", "version"} {
		if !seen[want] {
			t.Errorf("docs/operations.md shows no smartlaunch %s", want)
		}
	}
	checkEveryFlag(t, "docs/operations.md", text)
	// The three files it explains.
	for _, f := range []string{"../Dockerfile", "../deploy/systemd/smartlaunch.service", "../deploy/kubernetes/smartlaunch.yaml"} {
		if !strings.Contains(text, "("+f+")") {
			t.Errorf("docs/operations.md does not link %s", f)
		}
	}
}
