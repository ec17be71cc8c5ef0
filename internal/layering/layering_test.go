package layering

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/smartlaunch/smartlaunch"

type pkg struct {
	ImportPath string
	Dir        string
	Imports    []string
	Standard   bool
	GoFiles    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	cmd.Dir = "../.."
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

// features are the feature packages of DESIGN.md §3.
var features = []string{"internal/oauth", "internal/consent", "internal/account", "internal/ehr", "internal/fhir"}

func rel(p string) string { return strings.TrimPrefix(strings.TrimPrefix(p, module), "/") }

func TestImportRules(t *testing.T) {
	for _, p := range listPackages(t) {
		me := rel(p.ImportPath)
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				if me == "smart" && strings.Contains(strings.Split(imp, "/")[0], ".") {
					t.Errorf("smart imports %s: it must depend on the standard library only", imp)
				}
				continue
			}
			dep := rel(imp)
			switch {
			case (me == "smart" || strings.HasPrefix(me, "smart/") || me == "client" || strings.HasPrefix(me, "client/")) &&
				strings.HasPrefix(dep, "internal/"):
				t.Errorf("%s imports %s: public packages never import internal ones", me, dep)
			case strings.HasPrefix(dep, "cmd/"):
				t.Errorf("%s imports %s: nothing imports a command", me, dep)
			case dep == "internal/server" && !strings.HasPrefix(me, "cmd/") && !strings.HasPrefix(me, "bench/") && me != "internal/testserver":
				t.Errorf("%s imports internal/server: only commands, load tools and the test server do", me)
			case dep == "internal/testserver":
				t.Errorf("%s imports internal/testserver: only tests do", me)
			case me == "internal/store" && dep != "smart":
				t.Errorf("internal/store imports %s: the store contract depends only on smart", dep)
			}
			for _, a := range features {
				for _, b := range features {
					if a != b && me == a && dep == b {
						t.Errorf("%s imports %s: feature packages never import each other", a, b)
					}
				}
			}
		}
	}
}

func TestEveryPackageHasDocGo(t *testing.T) {
	for _, p := range listPackages(t) {
		if _, err := os.Stat(filepath.Join(p.Dir, "doc.go")); err != nil {
			t.Errorf("%s has no doc.go", rel(p.ImportPath))
		}
	}
}
