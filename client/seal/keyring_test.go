package seal

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// With no Secret Service on the session bus (as on servers and in
// containers), Keyring reports ErrNoKeyring and Default falls back to the
// passphrase.
func TestKeyringUnavailableFallsBackToPassphrase(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	if _, err := Keyring("smartlaunch-test", "app"); !errors.Is(err, ErrNoKeyring) {
		t.Fatalf("Keyring err = %v, want ErrNoKeyring", err)
	}
	asked := 0
	s, how, err := Default("smartlaunch-test", "app", func() ([]byte, error) { asked++; return []byte("pw"), nil })
	if err != nil || how != "passphrase" || asked != 1 {
		t.Fatalf("Default = %v, %q, asked %d; want passphrase, asked once", err, how, asked)
	}
	blob, _ := s.Seal([]byte("t"), nil)
	if got, err := Passphrase([]byte("pw")).Open(blob, nil); err != nil || string(got) != "t" {
		t.Fatalf("the fallback is not the passphrase sealer: %q, %v", got, err)
	}
	if _, _, err := Default("smartlaunch-test", "app", func() ([]byte, error) { return nil, nil }); err == nil {
		t.Fatal("Default accepted an empty passphrase")
	}
}

// TestKeyringSecretService runs against a real GNOME Keyring daemon on a
// private session bus (dbus-run-session; .ci/run installs gnome-keyring).
// The test binary re-runs itself inside that session.
func TestKeyringSecretService(t *testing.T) {
	if os.Getenv("SEAL_KEYRING_SESSION") == "" {
		if _, err := exec.LookPath("gnome-keyring-daemon"); err != nil {
			// Under .ci/run, which installs it, a missing daemon fails.
			why := "GNOME Keyring is not installed: apt-get install gnome-keyring dbus"
			if os.Getenv("SMARTLAUNCH_REQUIRE_TOOLS") != "" {
				t.Fatal(why)
			}
			t.Skip(why)
		}
		home := t.TempDir()
		cmd := exec.Command("dbus-run-session", "--", "sh", "-c",
			`printf test | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "$0" -test.run '^TestKeyringSecretService$' -test.v`,
			os.Args[0])
		cmd.Env = append(os.Environ(), "SEAL_KEYRING_SESSION=1", "HOME="+home, "XDG_DATA_HOME="+home, "XDG_RUNTIME_DIR="+home)
		out, err := cmd.CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("--- PASS: TestKeyringSecretService")) {
			t.Fatalf("in a keyring session: %v\n%s", err, out)
		}
		return
	}
	first, err := Keyring("smartlaunch-test", "app")
	if err != nil {
		t.Fatalf("Keyring: %v", err)
	}
	blob, err := first.Seal([]byte("refresh"), []byte("store"))
	if err != nil {
		t.Fatal(err)
	}
	// A second process (here: a second call) finds the same key.
	again, how, err := Default("smartlaunch-test", "app", func() ([]byte, error) {
		t.Fatal("asked for a passphrase although a keyring is available")
		return nil, nil
	})
	if err != nil || how != "keyring" {
		t.Fatalf("Default = %q, %v; want keyring", how, err)
	}
	if got, err := again.Open(blob, []byte("store")); err != nil || string(got) != "refresh" {
		t.Fatalf("Open with the key found again = %q, %v", got, err)
	}
	// Another account has another key.
	other, err := Keyring("smartlaunch-test", "other-app")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Open(blob, []byte("store")); !errors.Is(err, ErrOpen) {
		t.Fatalf("another account's key opened the blob: %v", err)
	}
}
