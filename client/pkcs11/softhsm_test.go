//go:build cgo

package pkcs11

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// softhsmModules are where Debian and a source build put SoftHSM2's
// PKCS#11 library; SOFTHSM2_MODULE overrides them.
var softhsmModules = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
}

// NewSoftHSMToken creates a fresh SoftHSM2 token labelled "test" (user
// and SO PIN 1234) in a directory of t's, points SOFTHSM2_CONF at it for
// the rest of the test, and returns a Config for it without a key name.
// When SoftHSM2 is not installed it skips the test, saying why, except
// under .ci/run (which installs it), where it fails. Tests using it cannot run in parallel: SoftHSM2
// reads SOFTHSM2_CONF from the environment when the module initializes.
func NewSoftHSMToken(t testing.TB) Config {
	t.Helper()
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		missingTool(t, "SoftHSM2 is not installed (no softhsm2-util in PATH): apt-get install softhsm2")
	}
	module := os.Getenv("SOFTHSM2_MODULE")
	for _, m := range softhsmModules {
		if module != "" {
			break
		}
		if _, err := os.Stat(m); err == nil {
			module = m
		}
	}
	if module == "" {
		missingTool(t, fmt.Sprintf("SoftHSM2's PKCS#11 library is not in %v; set SOFTHSM2_MODULE", softhsmModules))
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	body := "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	softhsmUtil(t, util, "--init-token", "--free", "--label", "test", "--so-pin", "1234", "--pin", "1234")
	return Config{Module: module, TokenLabel: "test", PIN: "1234"}
}

// softhsmUtil runs softhsm2-util with args (in the test's environment).
func softhsmUtil(t testing.TB, util string, args ...string) {
	t.Helper()
	if out, err := exec.Command(util, args...).CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util %v: %v\n%s", args, err, out)
	}
}

// missingTool skips a test whose external tool is not installed, saying
// how to install it; under .ci/run (SMARTLAUNCH_REQUIRE_TOOLS set), which
// installs every tool, it fails instead, so CI never skips.
func missingTool(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("SMARTLAUNCH_REQUIRE_TOOLS") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}
